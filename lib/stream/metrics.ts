/**
 * A stream's health as a person reads it: frames in and results out per second, frames
 * the pipeline dropped, how long a frame takes from the flow to its result, reconnects.
 * Fed by whoever drives the stream (a node adapter); rates over a sliding window.
 */
export interface StreamMetricsSnapshot {
  /** Frames per second going in: frames sent from the flow, else the rate at which the server's frame ids advance (frames it took from the camera or file). */
  fpsIn: number;
  /** Results per second. */
  fpsOut: number;
  /** Results since the start. */
  results: number;
  /** Frames that got no result: skipped frame ids (the server dropped them to stay realtime) plus frames replaced locally before they were sent. */
  dropped: number;
  /** From sending a frame to its result, over the window (frames from the flow only; null for cameras and files, whose frames never pass through here). */
  latencyMs: { p50: number; max: number } | null;
  reconnects: number;
  /** Seconds over which the rates were measured (the window, or the stream's life when shorter). */
  windowSeconds: number;
}

const WINDOW_MS = 5_000;
const KEEP_SENT = 600;

export class StreamMetrics {
  private readonly sent: number[] = [];
  private readonly resultTimes: number[] = [];
  private readonly frameIds: Array<[number, number]> = [];
  private readonly latencies: Array<[number, number]> = [];
  /** When each frame of the current session was sent, by its number (frame ids count frames the server received, from 1). */
  private readonly sentAt = new Map<number, number>();
  private framesSentInSession = 0;
  private lastFrameId = 0;
  private results = 0;
  private skipped = 0;
  private replaced = 0;
  private reconnects = 0;
  private startedAt: number | undefined;

  constructor(private readonly clock: () => number = Date.now) {}

  /** A frame from the flow went out (`sent` false: a newer one replaced it before it could). */
  frameSent(sent: boolean): void {
    const now = this.clock();
    this.startedAt ??= now;
    if (!sent) {
      this.replaced++;
      return;
    }
    this.sent.push(now);
    this.framesSentInSession++;
    this.sentAt.set(this.framesSentInSession, now);
    if (this.sentAt.size > KEEP_SENT) this.sentAt.delete(this.sentAt.keys().next().value as number);
  }

  result(frameId: number): void {
    const now = this.clock();
    this.startedAt ??= now;
    this.results++;
    this.resultTimes.push(now);
    if (frameId < this.lastFrameId) this.lastFrameId = 0; // A new session counts from 1 again.
    if (this.lastFrameId > 0 && frameId > this.lastFrameId + 1) this.skipped += frameId - this.lastFrameId - 1;
    this.lastFrameId = Math.max(this.lastFrameId, frameId);
    this.frameIds.push([now, frameId]);
    const sentAt = this.sentAt.get(frameId);
    if (sentAt !== undefined) {
      this.latencies.push([now, now - sentAt]);
      this.sentAt.delete(frameId);
    }
  }

  /** A new session starts (after a reconnect or a restart): frame numbers begin again. */
  sessionStarted(reconnect: boolean): void {
    if (reconnect) this.reconnects++;
    this.sentAt.clear();
    this.framesSentInSession = 0;
    this.lastFrameId = 0;
  }

  snapshot(): StreamMetricsSnapshot {
    const now = this.clock();
    const since = now - WINDOW_MS;
    for (const list of [this.sent, this.resultTimes]) while (list.length > 0 && list[0] <= since) list.shift();
    for (const list of [this.frameIds, this.latencies]) while (list.length > 0 && list[0][0] <= since) list.shift();
    // A young stream is measured over its life so far, not diluted over the whole window.
    const seconds = Math.max(1, Math.min(WINDOW_MS, now - (this.startedAt ?? now))) / 1000;
    let fpsIn = this.sent.length / seconds;
    if (this.sent.length === 0 && this.frameIds.length >= 2) {
      const [firstAt, firstId] = this.frameIds[0];
      const [lastAt, lastId] = this.frameIds[this.frameIds.length - 1];
      fpsIn = lastAt > firstAt && lastId >= firstId ? ((lastId - firstId) * 1000) / (lastAt - firstAt) : 0;
    }
    const sorted = this.latencies.map(([, ms]) => ms).sort((a, b) => a - b);
    return {
      fpsIn: round(fpsIn),
      fpsOut: round(this.resultTimes.length / seconds),
      results: this.results,
      dropped: this.skipped + this.replaced,
      latencyMs: sorted.length > 0 ? { p50: sorted[Math.floor((sorted.length - 1) / 2)], max: sorted[sorted.length - 1] } : null,
      reconnects: this.reconnects,
      windowSeconds: seconds,
    };
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
