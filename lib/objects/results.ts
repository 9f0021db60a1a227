import type { ObjectEvent, ObjectState } from './object-events';
import type { Detection } from './tracker';

/**
 * Reading a stream's results for the objects module, and writing its events back out:
 * shared by every adapter (Node-RED's Objects node, n8n's Stream Trigger), so both speak
 * the same shapes.
 */

export interface FoundDetections {
  detections: Detection[];
  /** The size of the image the boxes are in, when the workflow said it. */
  imageSize?: { width: number; height: number };
}

/**
 * The detections of one result: `data[field]` as a workflow serialises them
 * (`{image, predictions: [...]}`) or a bare list. Undefined when the output is missing;
 * entries without numbers and a class are skipped.
 */
export function detectionsIn(data: unknown, field: string): FoundDetections | undefined {
  const value = data && typeof data === 'object' ? (data as Record<string, unknown>)[field] : undefined;
  const list = Array.isArray(value) ? value : (value as { predictions?: unknown } | undefined)?.predictions;
  if (!Array.isArray(list)) return undefined;
  const detections = list.filter(
    (d): d is Detection =>
      !!d &&
      typeof d === 'object' &&
      ['x', 'y', 'width', 'height', 'confidence'].every((key) => typeof (d as Record<string, unknown>)[key] === 'number') &&
      typeof (d as { class?: unknown }).class === 'string',
  );
  const image = (value as { image?: { width?: unknown; height?: unknown } } | undefined)?.image;
  const imageSize = typeof image?.width === 'number' && typeof image?.height === 'number' ? { width: image.width, height: image.height } : undefined;
  return { detections, ...(imageSize ? { imageSize } : {}) };
}

/** A frame's time in the video, in ms: its presentation time, else its number at the declared rate. */
export function videoTimeMs(frame: unknown): number | undefined {
  const metadata = (frame ?? {}) as { frame_id?: unknown; declared_fps?: unknown; pts?: unknown; time_base?: unknown };
  const pts = typeof metadata.pts === 'number' ? metadata.pts : NaN;
  const timeBase = typeof metadata.time_base === 'number' ? metadata.time_base : NaN;
  if (Number.isFinite(pts) && Number.isFinite(timeBase) && timeBase > 0) return Math.round(pts * timeBase * 1000);
  const id = typeof metadata.frame_id === 'number' ? metadata.frame_id : NaN;
  if (!Number.isFinite(id)) return undefined;
  const fps = typeof metadata.declared_fps === 'number' && metadata.declared_fps > 0 ? metadata.declared_fps : 30;
  return Math.round(((id - 1) * 1000) / fps);
}

/** How times are written out: ISO dates for wall-clock times, seconds for times into a video. */
export type TimeFormat = 'wall' | 'video';

function formatTime(ms: number, format: TimeFormat): string | number {
  return format === 'video' ? ms / 1000 : new Date(ms).toISOString();
}

export function describeObject(object: ObjectState, format: TimeFormat): Record<string, unknown> {
  return {
    id: object.id,
    class: object.class,
    confidence: object.confidence,
    box: object.box,
    zones: object.zones,
    firstSeen: formatTime(object.firstSeen, format),
    lastSeen: formatTime(object.lastSeen, format),
    dwell: object.dwellMs / 1000,
  };
}

/** `{event, time, zone?, line?, direction?, object}`. */
export function describeEvent(event: ObjectEvent, format: TimeFormat): Record<string, unknown> {
  return {
    event: event.type,
    time: formatTime(event.time, format),
    ...('zone' in event ? { zone: event.zone } : {}),
    ...('line' in event ? { line: event.line, direction: event.direction } : {}),
    object: describeObject(event.object, format),
  };
}
