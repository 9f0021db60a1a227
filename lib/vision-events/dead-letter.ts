import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import type { RoboflowError } from '../errors';
import { redact } from '../redact';
import type { VisionEvent } from './builder';

/** One event the service refused for good, as kept in the dead-letter file (one JSON line each). */
export interface DeadLetter {
  /** When it was given up on (ISO 8601). */
  at: string;
  /** Why: the service's answer, redacted. */
  reason: string;
  code: string;
  status?: number;
  event: VisionEvent;
  /** Size of the image that was to be attached (the image itself is not kept). */
  imageBytes?: number;
}

export interface DeadLetterLimits {
  /** Events kept at most (the oldest go first). Default 1,000. */
  maxEntries?: number;
  /** Bytes kept at most. Default 10 MiB. */
  maxBytes?: number;
}

/**
 * The dead-letter file beside a Vision Events queue (`dead-letter.jsonl`): events the
 * service refused with an answer a retry cannot change (a 400 for an image too large,
 * an event it finds invalid). They leave the queue so the events behind them are
 * delivered, and are kept here for a person to read, bounded: past the limits the
 * oldest lines are dropped. The file is only appended to and counted, never trusted.
 */
export class DeadLetterFile {
  private lines: number | undefined;
  private bytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(
    readonly path: string,
    limits: DeadLetterLimits = {},
  ) {
    this.maxEntries = Math.max(1, limits.maxEntries ?? 1_000);
    this.maxBytes = Math.max(1024, limits.maxBytes ?? 10 * 1024 * 1024);
  }

  /** Events in the file now. */
  async count(): Promise<number> {
    await this.writing.catch(() => undefined);
    return this.lines ?? (await this.measure());
  }

  /** Appends an event with the reason it was refused; resolves to the number of events kept. */
  add(event: VisionEvent, error: RoboflowError, imageBytes?: number): Promise<number> {
    const entry: DeadLetter = {
      at: new Date().toISOString(),
      reason: redact(error.message),
      code: error.code,
      ...(error.status !== undefined ? { status: error.status } : {}),
      event,
      ...(imageBytes !== undefined ? { imageBytes } : {}),
    };
    const line = `${JSON.stringify(entry)}\n`;
    const result = this.writing.then(async () => {
      if (this.lines === undefined) await this.measure();
      await appendFile(this.path, line);
      this.lines = (this.lines ?? 0) + 1;
      this.bytes += Buffer.byteLength(line);
      if (this.lines > this.maxEntries || this.bytes > this.maxBytes) await this.trim();
      return this.lines;
    });
    this.writing = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async measure(): Promise<number> {
    const text = await readFile(this.path, 'utf8').catch(() => '');
    this.lines = text.split('\n').filter(Boolean).length;
    this.bytes = Buffer.byteLength(text);
    return this.lines;
  }

  /** Keeps the newest lines within both limits (written aside, then renamed: never half a file). */
  private async trim(): Promise<void> {
    const lines = (await readFile(this.path, 'utf8')).split('\n').filter(Boolean);
    const kept: string[] = [];
    let bytes = 0;
    for (let index = lines.length - 1; index >= 0 && kept.length < this.maxEntries; index--) {
      const size = Buffer.byteLength(lines[index]) + 1;
      if (bytes + size > this.maxBytes && kept.length > 0) break;
      kept.push(lines[index]);
      bytes += size;
    }
    kept.reverse();
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, kept.map((line) => `${line}\n`).join(''));
    await rename(temporary, this.path);
    this.lines = kept.length;
    this.bytes = bytes;
  }
}
