import { randomUUID } from 'node:crypto';
import type { RgbaFrame } from '../media/frame-reader';
import { findBlobs } from './blobs';
import { COLOR_NAMES } from './colors';
import type { Detection, Detections } from './blocks';

export interface ColorDetectorOptions {
  /** Smallest blob kept, in pixels. */
  minArea?: number;
  /** Colour ids to look for (all when unset). */
  wanted?: ReadonlySet<number>;
  /** Class name per colour name (the colour name when absent). */
  names?: Record<string, string>;
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;

/**
 * The work behind the colour detector block and the built-in models: solid-coloured
 * blobs as detections, box centre and size in pixels as Roboflow reports them, and a
 * confidence that is the share of the box the colour fills (0.5..0.99).
 */
export function detectColors(frame: RgbaFrame, options: ColorDetectorOptions = {}): Detections {
  const names = options.names ?? {};
  const predictions: Detection[] = findBlobs(frame, options.minArea ?? 64, options.wanted).map((blob) => {
    const width = blob.maxX - blob.minX + 1;
    const height = blob.maxY - blob.minY + 1;
    const colorName = COLOR_NAMES[blob.color];
    return {
      x: blob.minX + width / 2,
      y: blob.minY + height / 2,
      width,
      height,
      confidence: round(0.5 + 0.49 * Math.min(1, blob.area / (width * height))),
      class: names[colorName] ?? colorName,
      class_id: blob.color,
      detection_id: randomUUID(),
      parent_id: 'image',
    };
  });
  return { image: { width: frame.width, height: frame.height }, predictions };
}
