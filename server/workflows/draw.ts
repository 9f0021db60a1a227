import type { RgbaFrame } from '../media/frame-reader';
import { COLORS, COLOR_NAMES } from './colors';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  class_id: number;
}

/** A copy of `frame` with each box outlined (2 px, white around the class colour so it shows on any background). */
export function drawBoxes(frame: RgbaFrame, boxes: Box[]): RgbaFrame {
  const rgba = Buffer.from(frame.rgba);
  const { width, height } = frame;
  const paint = (x: number, y: number, color: [number, number, number]): void => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const offset = (y * width + x) * 4;
    rgba[offset] = color[0];
    rgba[offset + 1] = color[1];
    rgba[offset + 2] = color[2];
  };
  for (const box of boxes) {
    const name = COLOR_NAMES[box.class_id] ?? 'red';
    const color = COLORS[name].rgb;
    const left = Math.round(box.x - box.width / 2);
    const top = Math.round(box.y - box.height / 2);
    const right = left + Math.round(box.width) - 1;
    const bottom = top + Math.round(box.height) - 1;
    for (let ring = 0; ring < 4; ring++) {
      const shade: [number, number, number] = ring === 0 || ring === 3 ? [255, 255, 255] : color;
      const l = left - 4 + ring;
      const t = top - 4 + ring;
      const r = right + 4 - ring;
      const b = bottom + 4 - ring;
      for (let x = l; x <= r; x++) {
        paint(x, t, shade);
        paint(x, b, shade);
      }
      for (let y = t; y <= b; y++) {
        paint(l, y, shade);
        paint(r, y, shade);
      }
    }
  }
  return { width, height, rgba };
}
