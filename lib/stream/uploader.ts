import { open, stat } from 'node:fs/promises';
import { RoboflowError } from '../errors';
import { writeUploadHeader } from './chunks';
import { CHUNK_PAYLOAD_BYTES, UPLOAD_BUFFER_LIMIT, UPLOAD_HEADER_BYTES } from './protocol';

export interface UploadProgress {
  sentBytes: number;
  totalBytes: number;
  /** 0..100, whole numbers. */
  percent: number;
}

/**
 * Checks that a path names a readable, non-empty regular file, with a message a user
 * can act on. An empty file would never start on the server (no chunk, no end).
 */
export async function checkVideoFile(path: string): Promise<number> {
  if (typeof path !== 'string' || path.trim() === '') throw new RoboflowError('invalid-input', 'No video file given: set a file path');
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RoboflowError('invalid-input', `Video file not found: ${path}`);
    if (code === 'EACCES') throw new RoboflowError('invalid-input', `Video file not readable (permission denied): ${path}`);
    throw new RoboflowError('invalid-input', `Video file cannot be read: ${path} (${code ?? (error as Error).message})`);
  }
  if (info.isDirectory()) throw new RoboflowError('invalid-input', `Expected a video file but found a directory: ${path}`);
  if (!info.isFile()) throw new RoboflowError('invalid-input', `Not a regular file: ${path}`);
  if (info.size === 0) throw new RoboflowError('invalid-input', `Video file is empty: ${path}`);
  // Say so now rather than fail mid-session: the process may see the file but not read it.
  try {
    await (await open(path, 'r')).close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RoboflowError('invalid-input', code === 'EACCES' ? `Video file not readable (permission denied): ${path}` : `Video file cannot be read: ${path} (${code ?? (error as Error).message})`);
  }
  return info.size;
}

/** Waits until the channel's buffer drains below `limit`, or the channel closes. */
function drained(channel: RTCDataChannel, limit: number, isCancelled: () => boolean): Promise<void> {
  if (channel.bufferedAmount <= limit) return Promise.resolve();
  return new Promise((resolve, reject) => {
    // bufferedamountlow is not fired reliably by every implementation: poll as well.
    const poll = setInterval(check, 10);
    channel.bufferedAmountLowThreshold = limit;
    channel.addEventListener('bufferedamountlow', check);
    function check(): void {
      if (isCancelled()) {
        done(new RoboflowError('aborted', 'Upload cancelled'));
        return;
      }
      if (channel.readyState !== 'open') {
        done(new RoboflowError('network', 'Upload interrupted: the connection closed', { retryable: true }));
        return;
      }
      if (channel.bufferedAmount <= limit) done();
    }
    function done(error?: RoboflowError): void {
      clearInterval(poll);
      channel.removeEventListener('bufferedamountlow', check);
      if (error) reject(error);
      else resolve();
    }
  });
}

/**
 * Sends a file over the `video_upload` channel in 49,152-byte chunks with an 8-byte
 * header, reading one chunk at a time (constant memory for any size) and pausing while
 * more than 256 KB wait in the channel. The server starts once it holds every chunk.
 */
export class FileUploader {
  private cancelled = false;

  constructor(
    private readonly path: string,
    private readonly channel: RTCDataChannel,
    private readonly onProgress: (progress: UploadProgress) => void = () => undefined,
  ) {}

  cancel(): void {
    this.cancelled = true;
  }

  async upload(): Promise<void> {
    const totalBytes = await checkVideoFile(this.path);
    const totalChunks = Math.ceil(totalBytes / CHUNK_PAYLOAD_BYTES);
    const file = await open(this.path, 'r');
    try {
      let sentBytes = 0;
      let lastPercent = -1;
      // One message buffer for every chunk: the file is read straight behind the header.
      // send() copies the bytes into WebRTC's own buffer before it returns, so reusing it
      // is safe, and a 1 GB upload allocates nothing per chunk (no garbage to collect).
      const message = Buffer.allocUnsafe(UPLOAD_HEADER_BYTES + CHUNK_PAYLOAD_BYTES);
      for (let index = 0; index < totalChunks; index++) {
        await drained(this.channel, UPLOAD_BUFFER_LIMIT, () => this.cancelled);
        if (this.cancelled) throw new RoboflowError('aborted', 'Upload cancelled');
        const length = Math.min(CHUNK_PAYLOAD_BYTES, totalBytes - sentBytes);
        const { bytesRead } = await file.read(message, UPLOAD_HEADER_BYTES, length, sentBytes);
        if (bytesRead !== length) {
          throw new RoboflowError('invalid-input', `Video file changed while uploading: ${this.path}`);
        }
        if (this.channel.readyState !== 'open') throw new RoboflowError('network', 'Upload interrupted: the connection closed', { retryable: true });
        writeUploadHeader(message, index, totalChunks);
        // The last chunk is usually shorter: send it in a buffer of its own size.
        this.channel.send(length === CHUNK_PAYLOAD_BYTES ? message : Buffer.from(message.subarray(0, UPLOAD_HEADER_BYTES + length)));
        sentBytes += bytesRead;
        const percent = Math.floor((sentBytes / totalBytes) * 100);
        if (percent !== lastPercent) {
          lastPercent = percent;
          this.onProgress({ sentBytes, totalBytes, percent });
        }
      }
    } finally {
      await file.close();
    }
  }
}
