import { openImage, type ImageLimits } from '../image';
import type { Box } from './geometry';

export interface SnapshotBox {
  box: Box;
  label: string;
  /** Drawn thicker and in the alert colour: the object the alert is about. */
  highlight?: boolean;
}

export interface SnapshotOptions {
  /** Draw the boxes (false when the workflow rendered them into the image already). */
  draw: boolean;
  /** The size of the image the boxes were detected on, when it may differ from this one (e.g. a scaled-down returned video). */
  sourceSize?: { width: number; height: number };
  quality?: number;
  /** Decoding limits: a larger frame is scaled down to `maxSide` (default 1920), one over `maxInputPixels` (default 50 MP) refused. */
  limits?: ImageLimits;
}

export interface Snapshot {
  jpeg: Buffer;
  width: number;
  height: number;
}

const XML_ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' };

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => XML_ENTITIES[c] ?? c);
}

/**
 * The picture of an alert: a JPEG of the frame, with a box and label per object when the
 * workflow did not draw them. The boxes are an SVG laid over the image by sharp (libvips).
 * A frame larger than the working size is scaled down first (boxes scaled with it), and
 * one with more pixels than the cap is refused with a clear error: memory stays bounded.
 */
export async function renderSnapshot(image: Buffer, boxes: readonly SnapshotBox[], options: SnapshotOptions): Promise<Snapshot> {
  const opened = await openImage(image, options.limits, 'The snapshot image');
  const { width, height } = opened.size;
  const scaled = width !== opened.source.width || height !== opened.source.height;
  let pipeline = opened.pipeline;
  if (options.draw && boxes.length > 0) {
    const basis = options.sourceSize ?? opened.source;
    const sx = width / basis.width;
    const sy = height / basis.height;
    const stroke = Math.max(2, Math.round(Math.min(width, height) / 180));
    const font = Math.max(12, Math.round(Math.min(width, height) / 28));
    const shapes = boxes.map(({ box, label, highlight }) => {
      const left = Math.round((box.x - box.width / 2) * sx);
      const top = Math.round((box.y - box.height / 2) * sy);
      const color = highlight ? '#ff2d55' : '#ffd60a';
      const textTop = top - font - 4 >= 0 ? top - font - 4 : top;
      return [
        `<rect x="${left}" y="${top}" width="${Math.round(box.width * sx)}" height="${Math.round(box.height * sy)}" fill="none" stroke="${color}" stroke-width="${highlight ? stroke * 2 : stroke}"/>`,
        `<rect x="${left}" y="${textTop}" width="${Math.round(label.length * font * 0.6) + 8}" height="${font + 4}" fill="${color}"/>`,
        `<text x="${left + 4}" y="${textTop + font}" font-family="sans-serif" font-size="${font}" fill="#000">${escapeXml(label)}</text>`,
      ].join('');
    });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
    pipeline = pipeline.composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  } else if (opened.source.format === 'jpeg' && !scaled) {
    return { jpeg: image, width, height };
  }
  const jpeg = await pipeline.jpeg({ quality: options.quality ?? 85 }).toBuffer();
  return { jpeg, width, height };
}
