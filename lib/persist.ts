import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { safeLogger, type Logger } from './logger';

/**
 * Checks a value read back from disk and returns it typed; throws an Error saying what
 * is wrong ("entry 3: jobId is not text") when it is not what this version writes.
 */
export type Validator<T> = (value: unknown) => T;

export interface JsonFileOptions<T> {
  /** Every value read back passes through it; without one, any JSON is taken as it is. */
  validate?: Validator<T>;
  /** Told once when a file is unreadable and set aside. */
  logger?: Logger;
}

/** A file name suffix for the moment a bad file was set aside: sortable, safe on every filesystem. */
function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/**
 * A JSON value kept in one file, replaced atomically (write a temporary file, then
 * rename), so a crash mid-write leaves the previous version intact. Used for what must
 * survive a restart: video job handles, queued Vision Events.
 *
 * What is read back is never trusted: a file that cannot be read, is not JSON, or is not
 * what `validate` expects (hand-edited, truncated by a full disk, written by another
 * version) is moved aside as `<name>.corrupt-<time>` with one warning, and the caller
 * starts empty. A bad file never stops the process, and never again on the next start.
 */
export class JsonFile<T> {
  private writing: Promise<void> = Promise.resolve();
  private readonly logger: Logger;

  constructor(
    readonly path: string,
    private readonly options: JsonFileOptions<T> = {},
  ) {
    this.logger = safeLogger(options.logger);
  }

  async load(): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return this.setAside(`it cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return this.setAside(`it is not JSON (${(error as Error).message})`);
    }
    if (!this.options.validate) return value as T;
    try {
      return this.options.validate(value);
    } catch (error) {
      return this.setAside((error as Error).message);
    }
  }

  /** Saves `value`; saves are serialised, so the last one called wins. */
  save(value: T): Promise<void> {
    const text = JSON.stringify(value);
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, text);
      await rename(temporary, this.path);
    });
    return this.writing;
  }

  async remove(): Promise<void> {
    await this.writing.catch(() => undefined);
    await rm(this.path, { force: true, recursive: true });
  }

  private async setAside(reason: string): Promise<undefined> {
    const aside = `${this.path}.corrupt-${stamp()}`;
    try {
      await rename(this.path, aside);
      this.logger.warn(`${this.path} is unusable (${reason}): moved it to ${aside} and started empty`);
    } catch (error) {
      this.logger.warn(`${this.path} is unusable (${reason}) and could not be moved aside (${(error as Error).message}): started empty`);
    }
    return undefined;
  }
}

interface TextOptions {
  optional?: boolean;
  nonEmpty?: boolean;
}

// Overloads: without `optional: true` the value is always there (or it threw).
function text(value: unknown, what: string, options: TextOptions & { optional: true }): string | undefined;
function text(value: unknown, what: string, options?: TextOptions & { optional?: false }): string;
function text(value: unknown, what: string, options: TextOptions = {}): string | undefined {
  if (value === undefined && options.optional) return undefined;
  if (typeof value !== 'string') throw new Error(`${what} is not text`);
  if (options.nonEmpty && value.length === 0) throw new Error(`${what} is empty`);
  return value;
}

function number(value: unknown, what: string, options: { optional: true }): number | undefined;
function number(value: unknown, what: string, options?: { optional?: false }): number;
function number(value: unknown, what: string, options: { optional?: boolean } = {}): number | undefined {
  if (value === undefined && options.optional) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${what} is not a number`);
  return value;
}

/** Small checks for validators: each throws an Error naming the field. */
export const fields = {
  object(value: unknown, what: string): Record<string, unknown> {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} is not an object`);
    return value as Record<string, unknown>;
  },
  array(value: unknown, what: string): unknown[] {
    if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
    return value;
  },
  text,
  number,
};
