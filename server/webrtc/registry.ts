import type { WorkerHandle, WorkerHost } from './worker-host';
import type { WorkerSummary } from './worker';

/** Live and recently ended sessions: the concurrency limit and `GET /local/sessions` read it. */
export class SessionRegistry {
  private readonly active = new Map<string, WorkerHandle>();
  private readonly ended: WorkerSummary[] = [];
  private started = 0;
  private endedCount = 0;

  constructor(private readonly host: WorkerHost) {}

  add(session: WorkerHandle): void {
    this.active.set(session.config.id, session);
    this.started++;
  }

  /**
   * Called when a session ends, and again when the worker process's final account of
   * a session the server ended arrives (its counts replace the ones listed).
   */
  release(session: WorkerHandle, summary: WorkerSummary): void {
    if (!this.active.delete(session.config.id)) {
      const index = this.ended.findIndex((listed) => listed.id === summary.id);
      if (index >= 0) this.ended[index] = summary;
      return;
    }
    this.endedCount++;
    this.ended.push(summary);
    if (this.ended.length > 100) this.ended.shift();
  }

  get(id: string): WorkerHandle | undefined {
    return this.active.get(id);
  }

  get activeCount(): number {
    return this.active.size;
  }

  endAll(reason: string): void {
    for (const session of [...this.active.values()]) session.end(reason);
  }

  async describe(): Promise<{ active: WorkerSummary[]; ended: WorkerSummary[]; started: number; endedTotal: number }> {
    await this.host.refresh();
    return {
      active: [...this.active.values()].map((session) => session.summary),
      ended: [...this.ended].reverse(),
      started: this.started,
      endedTotal: this.endedCount,
    };
  }
}
