/**
 * Wire-level facts of Roboflow's WebRTC streaming protocol (docs/protocol.md §2), in one place.
 */

/** Result chunks: three little-endian uint32 (frame_id, chunk_index, total_chunks). */
export const RESULT_HEADER_BYTES = 12;
/** Upload chunks: two little-endian uint32 (chunk_index, total_chunks). */
export const UPLOAD_HEADER_BYTES = 8;
/** Payload bytes per chunk, both directions. */
export const CHUNK_PAYLOAD_BYTES = 49_152;
/** The uploader waits while the channel holds more than this. */
export const UPLOAD_BUFFER_LIMIT = 262_144;

export const INFERENCE_CHANNEL = 'inference';
export const UPLOAD_CHANNEL = 'video_upload';

/** The per-frame metadata the server attaches to each result (snake_case, as sent). */
export interface VideoMetadata {
  frame_id: number;
  received_at: string;
  pts?: number | null;
  time_base?: number | null;
  declared_fps?: number | null;
  measured_fps?: number | null;
  width?: number;
  height?: number;
  [extra: string]: unknown;
}

/** One result document as the server sends it. */
export interface ResultDocument {
  serialized_output_data: Record<string, unknown> | null;
  video_metadata: VideoMetadata | null;
  errors: string[];
  processing_complete: boolean;
  termination_reason: string | null;
}

/** Control message to the server on the inference channel. */
export interface ControlMessage {
  stream_output?: string[];
  data_output?: string[];
  ack?: number;
}

/** An image inside a data output: `{"type": "base64", "value": "<JPEG base64>"}`. */
export interface Base64Image {
  type: 'base64';
  value: string;
  video_metadata?: VideoMetadata;
}
