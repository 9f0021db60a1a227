import { RoboflowError } from '../errors';
import type { VideoJobFrame } from './results';

/**
 * Batch Processing results (docs/protocol.md §4.5): the processing stage writes its
 * results as CSV or JSONL, one row per analysed frame. A row holds the workflow's
 * outputs, serialised as Roboflow serialises them (images replaced by
 * `"<deducted_image>"`; in CSV, lists and objects as JSON text, Python's `True` and
 * `False`, empty cells for `None`), and may say which source frame it is.
 */
export type AggregationFormat = 'jsonl' | 'csv';

/** What Roboflow writes in place of an image output in structured results. */
export const DEDUCTED_IMAGE = '<deducted_image>';

/** Row fields that place a row in the video rather than being workflow outputs. */
const FRAME_OFFSET_KEYS = ['frame_offset'];
/** 1-based frame numbers, as InferencePipeline counts frames. */
const FRAME_NUMBER_KEYS = ['frame_id', 'frame_number'];
const TIME_KEYS = ['time_offset'];
const POSITION_KEYS = new Set([...FRAME_OFFSET_KEYS, ...FRAME_NUMBER_KEYS, ...TIME_KEYS]);

/** The format a results file is in, from its name or content type; undefined for anything else (archives, images). */
export function aggregationFormatOf(fileName: string, contentType?: string): AggregationFormat | undefined {
  const name = fileName.toLowerCase();
  const type = (contentType ?? '').toLowerCase();
  if (name.endsWith('.jsonl') || type.includes('jsonl') || type.includes('ndjson')) return 'jsonl';
  if (name.endsWith('.csv') || type.includes('text/csv')) return 'csv';
  return undefined;
}

/** JSON Lines: one object per non-empty line. A line that is not a JSON object is an error naming the line. */
export function parseJsonl(text: string): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new RoboflowError('protocol', `Job results line ${index + 1} is not JSON (${(error as Error).message})`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new RoboflowError('protocol', `Job results line ${index + 1} is not a JSON object`);
    rows.push(value as Record<string, unknown>);
  });
  return rows;
}

/** Splits CSV text into records of fields (RFC 4180: quoted fields may hold commas, quotes as "" and line breaks). */
export function splitCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (quoted) {
      if (char === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += char;
      continue;
    }
    if (char === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (char === ',') {
      record.push(field);
      field = '';
      fieldStarted = false;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && body[i + 1] === '\n') i++;
      record.push(field);
      if (!(record.length === 1 && record[0] === '')) records.push(record);
      record = [];
      field = '';
      fieldStarted = false;
    } else {
      field += char;
      fieldStarted = true;
    }
  }
  if (quoted) throw new RoboflowError('protocol', 'Job results CSV ends inside a quoted field (truncated?)');
  if (fieldStarted || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A CSV cell as the value it was before pandas wrote it. */
export function decodeCsvValue(cell: string): unknown {
  if (cell === '') return null;
  if (cell === 'True') return true;
  if (cell === 'False') return false;
  if (NUMBER.test(cell)) return Number(cell);
  const first = cell[0];
  if (first === '{' || first === '[') {
    try {
      return JSON.parse(cell);
    } catch {
      // Text that only looks like JSON stays text.
    }
  }
  return cell;
}

/** CSV with a header row: one object per record, values decoded (decodeCsvValue). */
export function parseCsv(text: string): Array<Record<string, unknown>> {
  const [header, ...records] = splitCsv(text);
  if (!header) return [];
  return records.map((record, index) => {
    if (record.length !== header.length) {
      throw new RoboflowError('protocol', `Job results CSV record ${index + 1} has ${record.length} fields; the header has ${header.length}`);
    }
    return Object.fromEntries(header.map((name, column) => [name, decodeCsvValue(record[column])]));
  });
}

function firstNumber(row: Record<string, unknown>, keys: string[]): number | undefined {
  for (const key of keys) {
    const value = row[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

export interface RowsToFramesOptions {
  /** The frame rate the job sampled at (`maxVideoFPS`): places rows that do not say where they are. */
  fps?: number;
}

/**
 * One entry per analysed frame, in the shape every job generation gives
 * (VideoJobFrame). A row's place: `frame_offset` (0-based), else `frame_id` or
 * `frame_number` (1-based, as InferencePipeline counts), else its position; its time:
 * `time_offset` in seconds, else position / fps when the rate is known, else 0.
 * Image outputs (`<deducted_image>`) are left out, as in the other workflow results.
 */
export function rowsToFrames(rows: Array<Record<string, unknown>>, options: RowsToFramesOptions = {}): VideoJobFrame[] {
  return rows.map((row, index) => {
    const offset = firstNumber(row, FRAME_OFFSET_KEYS);
    const number = firstNumber(row, FRAME_NUMBER_KEYS);
    const frameOffset = offset ?? (number !== undefined ? number - 1 : index);
    const time = firstNumber(row, TIME_KEYS);
    const timeOffset = time ?? (options.fps && options.fps > 0 ? Math.round((index / options.fps) * 1000) / 1000 : 0);
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) {
      if (POSITION_KEYS.has(key) || value === DEDUCTED_IMAGE) continue;
      outputs[key] = value;
    }
    return { frameOffset, timeOffset, outputs };
  });
}

/** A results file's text as frames. */
export function parseAggregation(text: string, format: AggregationFormat, options: RowsToFramesOptions = {}): VideoJobFrame[] {
  return rowsToFrames(format === 'csv' ? parseCsv(text) : parseJsonl(text), options);
}
