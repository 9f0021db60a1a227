import { RoboflowError } from '../errors';

/** One analysed frame of a video job. */
export interface VideoJobFrame {
  /** Frame number in the source video. */
  frameOffset: number;
  /** Seconds from the start of the video. */
  timeOffset: number;
  /** Per model id (model jobs) or per workflow output (workflow jobs). */
  outputs: Record<string, unknown>;
}

export interface VideoJobResults {
  frames: VideoJobFrame[];
  /** The results document as the service sent it. */
  raw: unknown;
}

const FRAME_KEYS = ['frame_offsets', 'frame_offset'];
const TIME_KEYS = ['time_offsets', 'time_offset'];

function firstArray(record: Record<string, unknown>, keys: string[]): unknown[] | undefined {
  for (const key of keys) if (Array.isArray(record[key])) return record[key] as unknown[];
  return undefined;
}

const asNumber = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/**
 * Turns a results document into one entry per frame. Accepts the columnar layout of
 * Roboflow's results files (equal-length `frame_offsets`, `time_offsets` and one list
 * per model or output) and a list of per-frame rows.
 */
export function normaliseJobResults(raw: unknown): VideoJobResults {
  if (Array.isArray(raw)) {
    const frames = raw.map((row, index): VideoJobFrame => {
      const record = (row && typeof row === 'object' ? row : { value: row }) as Record<string, unknown>;
      const { frame_offset: frameOffset, time_offset: timeOffset, outputs, ...rest } = record;
      return {
        frameOffset: asNumber(frameOffset, index),
        timeOffset: asNumber(timeOffset ?? record.time, 0),
        outputs: outputs && typeof outputs === 'object' ? (outputs as Record<string, unknown>) : rest,
      };
    });
    return { frames, raw };
  }
  if (!raw || typeof raw !== 'object') throw new RoboflowError('protocol', 'Video job results are neither a list nor an object');
  const record = raw as Record<string, unknown>;
  for (const key of ['results', 'data', 'frames']) {
    if (Array.isArray(record[key])) return { ...normaliseJobResults(record[key]), raw };
  }
  const frameOffsets = firstArray(record, FRAME_KEYS);
  const timeOffsets = firstArray(record, TIME_KEYS);
  const length = frameOffsets?.length ?? timeOffsets?.length;
  if (length === undefined) throw new RoboflowError('protocol', 'Video job results have no frame_offsets or time_offsets');
  const columns = Object.entries(record).filter(([key, value]) => !FRAME_KEYS.includes(key) && !TIME_KEYS.includes(key) && Array.isArray(value) && value.length === length) as Array<
    [string, unknown[]]
  >;
  const frames: VideoJobFrame[] = [];
  for (let index = 0; index < length; index++) {
    const outputs: Record<string, unknown> = {};
    for (const [name, values] of columns) outputs[name] = values[index];
    frames.push({ frameOffset: asNumber(frameOffsets?.[index], index), timeOffset: asNumber(timeOffsets?.[index], 0), outputs });
  }
  return { frames, raw };
}
