import { gunzipSync } from 'node:zlib';
import { RoboflowError } from '../errors';
import type { ResultDocument, VideoMetadata } from './protocol';

/** A decompressed result larger than this is refused (a gzip bomb would otherwise fill memory). */
const MAX_DOCUMENT_BYTES = 128 * 1024 * 1024;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Turns a reassembled payload into a result document. The hosted server gzips results
 * whenever data outputs are requested; plain JSON is accepted too. Throws a
 * `protocol` error for anything that is neither.
 */
export function decodeResultPayload(bytes: Uint8Array): ResultDocument {
  let text: string;
  if (isGzip(bytes)) {
    try {
      text = gunzipSync(bytes, { maxOutputLength: MAX_DOCUMENT_BYTES }).toString('utf8');
    } catch (error) {
      throw new RoboflowError('protocol', `Result could not be decompressed: ${(error as Error).message}`, { cause: error });
    }
  } else {
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }
  return decodeResultText(text);
}

/** Parses a result sent as a JSON text message (accepted, though the server sends binary). */
export function decodeResultText(text: string): ResultDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RoboflowError('protocol', `Result is not JSON: ${JSON.stringify(text.slice(0, 60))}`);
  }
  return normaliseDocument(value);
}

function normaliseMetadata(value: unknown): VideoMetadata | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new RoboflowError('protocol', 'Result video_metadata is not an object');
  const metadata = value as VideoMetadata;
  if (typeof metadata.frame_id !== 'number' || !Number.isFinite(metadata.frame_id)) {
    throw new RoboflowError('protocol', 'Result video_metadata has no numeric frame_id');
  }
  return metadata;
}

/** Checks the shape of a result document, filling in fields older servers omit. */
export function normaliseDocument(value: unknown): ResultDocument {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RoboflowError('protocol', 'Result is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  const data = record.serialized_output_data ?? null;
  if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
    throw new RoboflowError('protocol', 'Result serialized_output_data is not an object');
  }
  const errors = record.errors ?? [];
  if (!Array.isArray(errors)) throw new RoboflowError('protocol', 'Result errors is not a list');
  const reason = record.termination_reason ?? null;
  return {
    serialized_output_data: data as Record<string, unknown> | null,
    video_metadata: normaliseMetadata(record.video_metadata),
    errors: errors.map((entry) => (typeof entry === 'string' ? entry : JSON.stringify(entry))),
    processing_complete: record.processing_complete === true,
    termination_reason: typeof reason === 'string' ? reason : null,
  };
}
