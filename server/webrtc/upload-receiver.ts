import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const CHUNK = 49_152;

export type UploadOutcome = { kind: 'progress' } | { kind: 'complete'; path: string } | { kind: 'ignored'; reason: string };

/**
 * Receives a file on the `video_upload` channel: 8-byte header (little-endian uint32
 * chunk_index, total_chunks) then the bytes. Each chunk is written at its place in a
 * temporary file (constant memory); the file is complete when every chunk index has
 * arrived once. Writes are serialised so the file is whole when it is announced.
 */
export class UploadReceiver {
  private file: FileHandle | undefined;
  private total: number | undefined;
  private readonly seen = new Set<number>();
  private writes: Promise<void> = Promise.resolve();
  private done = false;
  readonly path: string;

  constructor(directory: string, name: string) {
    this.path = join(directory, `${name}.upload`);
  }

  get receivedChunks(): number {
    return this.seen.size;
  }

  get totalChunks(): number | undefined {
    return this.total;
  }

  /** Handles one message; resolves with what it did. */
  handle(message: Uint8Array): Promise<UploadOutcome> {
    if (message.byteLength < 8) return Promise.resolve({ kind: 'ignored', reason: 'shorter than the 8-byte header' });
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    const index = view.getUint32(0, true);
    const total = view.getUint32(4, true);
    const data = message.subarray(8);
    if (this.done) return Promise.resolve({ kind: 'ignored', reason: 'upload already complete' });
    if (total === 0 || index >= total) return Promise.resolve({ kind: 'ignored', reason: `chunk ${index} of ${total} is out of range` });
    if (this.total !== undefined && total !== this.total) return Promise.resolve({ kind: 'ignored', reason: `total_chunks changed from ${this.total} to ${total}` });
    if (data.byteLength > CHUNK) return Promise.resolve({ kind: 'ignored', reason: `chunk of ${data.byteLength} bytes is over ${CHUNK}` });
    this.total = total;
    const copy = Buffer.from(data);
    const result = this.writes.then(async (): Promise<UploadOutcome> => {
      if (this.done) return { kind: 'ignored', reason: 'upload already complete' };
      this.file ??= await open(this.path, 'w');
      await this.file.write(copy, 0, copy.byteLength, index * CHUNK);
      this.seen.add(index);
      if (this.seen.size === this.total) {
        this.done = true;
        await this.file.close();
        this.file = undefined;
        return { kind: 'complete', path: this.path };
      }
      return { kind: 'progress' };
    });
    this.writes = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async dispose(): Promise<void> {
    this.done = true;
    await this.writes;
    await this.file?.close().catch(() => undefined);
    this.file = undefined;
    await rm(this.path, { force: true });
  }
}
