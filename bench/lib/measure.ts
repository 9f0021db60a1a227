/** Small measuring helpers shared by the benchmark workers. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values: number[]): number => percentile(values, 50);

/** Samples this process's RSS every `everyMs` until stopped: peak, and the median of the samples since `steadyFrom()`. */
export class RssSampler {
  private readonly samples: Array<{ at: number; rss: number }> = [];
  private readonly timer: NodeJS.Timeout;
  readonly baseline = process.memoryUsage().rss;
  private steadyAt = Number.POSITIVE_INFINITY;

  constructor(everyMs = 50) {
    this.timer = setInterval(() => this.samples.push({ at: Date.now(), rss: process.memoryUsage().rss }), everyMs);
    this.timer.unref();
  }

  steadyFrom(): void {
    this.steadyAt = Date.now();
  }

  stop(): { baselineMb: number; peakMb: number; peakGrowthMb: number; steadyMb: number } {
    clearInterval(this.timer);
    const peak = Math.max(this.baseline, ...this.samples.map((sample) => sample.rss));
    const steady = this.samples.filter((sample) => sample.at >= this.steadyAt).map((sample) => sample.rss);
    return { baselineMb: mb(this.baseline), peakMb: mb(peak), peakGrowthMb: mb(peak - this.baseline), steadyMb: mb(steady.length > 0 ? median(steady) : peak) };
  }
}

export const mb = (bytes: number): number => round(bytes / (1024 * 1024), 1);

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** CPU seconds (user + system) this process used since `since`. */
export function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a worker prints as its last line: the orchestrator reads it. */
export function report(result: unknown): void {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}
