import { gzipSync } from 'node:zlib';
import type { CorruptionKind } from '../behaviour';

const CHUNK = 49_152;
/** The hosted server waits while more than 1 MB sits in the channel. */
const BUFFER_LIMIT = 1024 * 1024;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends result documents the way the hosted server does: UTF-8 JSON (gzipped when
 * asked), split into chunks of up to 49,152 bytes, each with a 12-byte header of
 * little-endian uint32 frame_id, chunk_index, total_chunks. Binary messages only.
 */
export class ResultSender {
  constructor(
    private readonly channel: RTCDataChannel,
    /** Told when sending starts (true) and stops (false) waiting for the client to read. */
    private readonly onHeld: (held: boolean) => void = () => undefined,
  ) {}

  get open(): boolean {
    return this.channel.readyState === 'open';
  }

  async send(frameId: number, document: unknown, gzip: boolean): Promise<boolean> {
    if (this.open && this.channel.bufferedAmount > BUFFER_LIMIT) {
      this.onHeld(true);
      try {
        while (this.open && this.channel.bufferedAmount > BUFFER_LIMIT) await pause(10);
      } finally {
        this.onHeld(false);
      }
    }
    if (!this.open) return false;
    const json = Buffer.from(JSON.stringify(document), 'utf8');
    const payload = gzip ? gzipSync(json) : json;
    const total = Math.max(1, Math.ceil(payload.byteLength / CHUNK));
    for (let index = 0; index < total; index++) {
      if (!this.open) return false;
      const part = payload.subarray(index * CHUNK, Math.min(payload.byteLength, (index + 1) * CHUNK));
      const message = new Uint8Array(12 + part.byteLength);
      const header = new DataView(message.buffer);
      header.setUint32(0, frameId, true);
      header.setUint32(4, index, true);
      header.setUint32(8, total, true);
      message.set(part, 12);
      if (!this.trySend(message)) return false;
    }
    return true;
  }

  /**
   * Sends unless the channel has closed; false when it has. The client may close it at
   * any moment, even between a readyState check and the send, and wrtc throws then.
   */
  private trySend(message: Uint8Array<ArrayBuffer> | string): boolean {
    try {
      if (typeof message === 'string') this.channel.send(message);
      else this.channel.send(message);
      return true;
    } catch (error) {
      if (!this.open) return false;
      throw error;
    }
  }

  /** Sends frame `frameId`'s result broken in the given way (fault injection). */
  sendCorrupt(frameId: number, kind: CorruptionKind): void {
    if (!this.open) return;
    if (kind === 'text') {
      this.trySend('{"serialized_output_data": {"count": ');
      return;
    }
    if (kind === 'truncated') {
      this.trySend(new Uint8Array([1, 0, 0, 0, 0, 0, 0]));
      return;
    }
    const payload = kind === 'bad-gzip' ? Uint8Array.from([0x1f, 0x8b, 8, 0, 0xde, 0xad, 0xbe, 0xef]) : Buffer.from('<html>502 Bad Gateway</html>', 'utf8');
    const message = new Uint8Array(12 + payload.byteLength);
    const header = new DataView(message.buffer);
    header.setUint32(0, frameId, true);
    header.setUint32(4, kind === 'forged-index' ? 5 : 0, true);
    header.setUint32(8, kind === 'huge-count' ? 0xffffffff : kind === 'forged-index' ? 2 : 1, true);
    message.set(payload, 12);
    this.trySend(message);
  }
}
