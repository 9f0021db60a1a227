import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A JSON value kept in one file, replaced atomically (write a temporary file, then
 * rename), so a crash mid-write leaves the previous version intact. Used for what must
 * survive a restart: video job handles, queued Vision Events.
 */
export class JsonFile<T> {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  async load(): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // A corrupt file is set aside rather than blocking the node forever.
      await rename(this.path, `${this.path}.corrupt-${Date.now()}`).catch(() => undefined);
      return undefined;
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
    await rm(this.path, { force: true });
  }
}
