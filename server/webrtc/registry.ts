import type { WorkerSession, WorkerSummary } from './worker';

/** Live and recently ended sessions: the concurrency limit and `GET /local/sessions` read it. */
export class SessionRegistry {
  private readonly active = new Map<string, WorkerSession>();
  private readonly ended: WorkerSummary[] = [];
  private started = 0;
  private endedCount = 0;

  add(session: WorkerSession): void {
    this.active.set(session.config.id, session);
    this.started++;
  }

  /** Called by a session when it ends. */
  release(session: WorkerSession): void {
    if (!this.active.delete(session.config.id)) return;
    this.endedCount++;
    this.ended.push(session.summary);
    if (this.ended.length > 100) this.ended.shift();
  }

  get(id: string): WorkerSession | undefined {
    return this.active.get(id);
  }

  get activeCount(): number {
    return this.active.size;
  }

  endAll(reason: string): void {
    for (const session of [...this.active.values()]) session.end(reason);
  }

  describe(): { active: WorkerSummary[]; ended: WorkerSummary[]; started: number; endedTotal: number } {
    return {
      active: [...this.active.values()].map((session) => session.summary),
      ended: [...this.ended].reverse(),
      started: this.started,
      endedTotal: this.endedCount,
    };
  }
}
