import { CHUNK_PAYLOAD_BYTES, RESULT_HEADER_BYTES, UPLOAD_HEADER_BYTES } from './protocol';

export interface ResultChunk {
  frameId: number;
  chunkIndex: number;
  totalChunks: number;
  payload: Uint8Array;
}

/** Reads the 12-byte header of a result chunk; undefined when the message is too short. */
export function parseResultChunk(message: Uint8Array): ResultChunk | undefined {
  if (message.byteLength < RESULT_HEADER_BYTES) return undefined;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  return {
    frameId: view.getUint32(0, true),
    chunkIndex: view.getUint32(4, true),
    totalChunks: view.getUint32(8, true),
    payload: message.subarray(RESULT_HEADER_BYTES),
  };
}

/** Builds an upload chunk: 8-byte header (index, total) then the file bytes. */
export function encodeUploadChunk(chunkIndex: number, totalChunks: number, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const message = new Uint8Array(UPLOAD_HEADER_BYTES + data.byteLength);
  writeUploadHeader(message, chunkIndex, totalChunks);
  message.set(data, UPLOAD_HEADER_BYTES);
  return message;
}

/** Writes the 8-byte upload header (chunk_index, total_chunks; little-endian uint32) at the start of `message`. */
export function writeUploadHeader(message: Uint8Array, chunkIndex: number, totalChunks: number): void {
  const header = new DataView(message.buffer, message.byteOffset, UPLOAD_HEADER_BYTES);
  header.setUint32(0, chunkIndex, true);
  header.setUint32(4, totalChunks, true);
}

export interface ReassemblerLimits {
  /** Frames being assembled at once; the oldest is dropped past this. */
  maxPendingFrames: number;
  /** Bytes held for unfinished frames; the oldest frames are dropped past this. */
  maxPendingBytes: number;
  /** A frame announcing more chunks than this is refused (a forged or broken header). */
  maxChunksPerFrame: number;
}

export const DEFAULT_REASSEMBLER_LIMITS: ReassemblerLimits = {
  maxPendingFrames: 64,
  maxPendingBytes: 64 * 1024 * 1024,
  // 2,048 chunks of 48 KB = 96 MB, far beyond any real result document.
  maxChunksPerFrame: 2_048,
};

export type ReassemblyOutcome =
  { kind: 'complete'; frameId: number; payload: Uint8Array } | { kind: 'partial' } | { kind: 'rejected'; reason: string; /** From the header, when it could be read. */ frameId?: number };

interface PendingFrame {
  totalChunks: number;
  chunks: Map<number, Uint8Array>;
  bytes: number;
}

/**
 * Puts chunked results back together, by frame id. Bounded: it never holds more than
 * `maxPendingFrames` unfinished frames or `maxPendingBytes` bytes, so a lost chunk or a
 * hostile peer cannot grow memory without limit.
 */
export class ResultReassembler {
  private readonly pending = new Map<number, PendingFrame>();
  private pendingBytes = 0;
  private readonly limits: ReassemblerLimits;
  /** Frames dropped unfinished because a limit was hit. */
  dropped = 0;

  constructor(limits: Partial<ReassemblerLimits> = {}) {
    this.limits = { ...DEFAULT_REASSEMBLER_LIMITS, ...limits };
  }

  push(message: Uint8Array): ReassemblyOutcome {
    const chunk = parseResultChunk(message);
    if (!chunk) return { kind: 'rejected', reason: `message of ${message.byteLength} bytes is shorter than the 12-byte header` };
    const { frameId, chunkIndex, totalChunks, payload } = chunk;
    if (totalChunks === 0) return { kind: 'rejected', reason: `frame ${frameId}: total_chunks is 0`, frameId };
    if (totalChunks > this.limits.maxChunksPerFrame) {
      return { kind: 'rejected', reason: `frame ${frameId}: ${totalChunks} chunks is over the limit of ${this.limits.maxChunksPerFrame}`, frameId };
    }
    if (chunkIndex >= totalChunks) {
      return { kind: 'rejected', reason: `frame ${frameId}: chunk ${chunkIndex} of ${totalChunks} is out of range`, frameId };
    }
    if (payload.byteLength > CHUNK_PAYLOAD_BYTES) {
      return { kind: 'rejected', reason: `frame ${frameId}: chunk of ${payload.byteLength} bytes is over ${CHUNK_PAYLOAD_BYTES}`, frameId };
    }
    if (totalChunks === 1) {
      this.discard(frameId);
      return { kind: 'complete', frameId, payload };
    }

    let frame = this.pending.get(frameId);
    if (frame && frame.totalChunks !== totalChunks) {
      // A reused frame id with another shape: start over rather than mix two payloads.
      this.discard(frameId);
      frame = undefined;
    }
    if (!frame) {
      frame = { totalChunks, chunks: new Map(), bytes: 0 };
      this.pending.set(frameId, frame);
    }
    const previous = frame.chunks.get(chunkIndex);
    if (previous) {
      frame.bytes -= previous.byteLength;
      this.pendingBytes -= previous.byteLength;
    }
    // Copy: the message buffer belongs to the transport and may be reused.
    const copy = new Uint8Array(payload);
    frame.chunks.set(chunkIndex, copy);
    frame.bytes += copy.byteLength;
    this.pendingBytes += copy.byteLength;

    if (frame.chunks.size === totalChunks) {
      const whole = new Uint8Array(frame.bytes);
      let offset = 0;
      for (let index = 0; index < totalChunks; index++) {
        const part = frame.chunks.get(index) as Uint8Array;
        whole.set(part, offset);
        offset += part.byteLength;
      }
      this.discard(frameId);
      return { kind: 'complete', frameId, payload: whole };
    }
    this.enforceLimits(frameId);
    return { kind: 'partial' };
  }

  /** Unfinished frames held right now. */
  get pendingFrames(): number {
    return this.pending.size;
  }

  get heldBytes(): number {
    return this.pendingBytes;
  }

  clear(): void {
    this.pending.clear();
    this.pendingBytes = 0;
  }

  private discard(frameId: number): void {
    const frame = this.pending.get(frameId);
    if (!frame) return;
    this.pendingBytes -= frame.bytes;
    this.pending.delete(frameId);
  }

  /** Drops the oldest unfinished frames (the current one last) until within the limits. */
  private enforceLimits(current: number): void {
    const within = (): boolean => this.pending.size <= this.limits.maxPendingFrames && this.pendingBytes <= this.limits.maxPendingBytes;
    // Map iteration order is insertion order: oldest frames come first.
    for (const frameId of [...this.pending.keys()]) {
      if (within()) return;
      if (frameId === current) continue;
      this.discard(frameId);
      this.dropped++;
    }
    if (!within()) {
      this.discard(current);
      this.dropped++;
    }
  }
}
