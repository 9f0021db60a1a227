import type { Logger } from '../../../lib';

/**
 * The log is the n8n user's status line: an outage (the camera away, the session lost)
 * is said once when it starts, at warn level, and once when it ends; the attempts in
 * between go to debug. A camera away all night writes two lines, not one a minute.
 */
export class OutageLog {
  private attempts = 0;

  constructor(
    private readonly logger: Logger,
    /** "Roboflow camera rtsp://…/door", "Roboflow stream" */
    private readonly subject: string,
  ) {}

  get ongoing(): boolean {
    return this.attempts > 0;
  }

  /** A failed attempt: the first of an outage is logged with its reason and what happens next. */
  failed(attempt: number, delayMs: number, reason: string, action: string): void {
    this.attempts++;
    if (this.attempts === 1) this.logger.warn(`${this.subject}: ${reason}; ${action} with backoff (logged again when it is back)`);
    else this.logger.debug(`${this.subject}: still failing (attempt ${attempt}, next in ${delayMs} ms): ${reason}`);
  }

  /** Working again: one line when there was an outage. */
  recovered(what: string): void {
    if (this.attempts === 0) return;
    this.logger.info(`${this.subject}: ${what} after ${this.attempts} failed attempt${this.attempts === 1 ? '' : 's'}`);
    this.attempts = 0;
  }
}
