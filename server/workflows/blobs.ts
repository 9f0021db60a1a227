import type { RgbaFrame } from '../media/frame-reader';
import { BACKGROUND, colorTable } from './colors';

export interface Blob {
  color: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** Pixels of the blob's colour inside it. */
  area: number;
}

/**
 * Finds solid-coloured regions: each pixel is classified by hue (one table lookup),
 * runs of equal colour are linked to touching runs on the row above (4-connected), and
 * linked runs are merged with union-find. One pass over the image.
 */
export function findBlobs(frame: RgbaFrame, minArea: number, wanted?: ReadonlySet<number>): Blob[] {
  const { width, height, rgba } = frame;
  const table = colorTable();
  const parent: number[] = [];
  const stats: Blob[] = [];
  const find = (label: number): number => {
    let root = label;
    while (parent[root] !== root) root = parent[root];
    while (parent[label] !== root) {
      const next = parent[label];
      parent[label] = root;
      label = next;
    }
    return root;
  };

  // Runs of the previous and current row: [start, end, color, label] flattened.
  let previous: number[] = [];
  let current: number[] = [];
  for (let y = 0; y < height; y++) {
    current = [];
    let rowOffset = y * width * 4;
    let x = 0;
    while (x < width) {
      const offset = rowOffset + x * 4;
      const color = table[((rgba[offset] >> 3) << 10) | ((rgba[offset + 1] >> 3) << 5) | (rgba[offset + 2] >> 3)];
      if (color === BACKGROUND || (wanted && !wanted.has(color))) {
        x++;
        continue;
      }
      const start = x;
      x++;
      while (x < width) {
        const o = rowOffset + x * 4;
        if (table[((rgba[o] >> 3) << 10) | ((rgba[o + 1] >> 3) << 5) | (rgba[o + 2] >> 3)] !== color) break;
        x++;
      }
      const end = x - 1;
      const label = parent.length;
      parent.push(label);
      stats.push({ color, minX: start, maxX: end, minY: y, maxY: y, area: end - start + 1 });
      current.push(start, end, color, label);
    }
    // Link each current run with overlapping same-colour runs above.
    let p = 0;
    for (let c = 0; c < current.length; c += 4) {
      const start = current[c];
      const end = current[c + 1];
      while (p < previous.length && previous[p + 1] < start) p += 4;
      for (let q = p; q < previous.length && previous[q] <= end; q += 4) {
        if (previous[q + 2] !== current[c + 2]) continue;
        const a = find(previous[q + 3]);
        const b = find(current[c + 3]);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
    previous = current;
    rowOffset += width * 4;
  }

  const merged = new Map<number, Blob>();
  for (let label = 0; label < stats.length; label++) {
    const root = find(label);
    const run = stats[label];
    const blob = merged.get(root);
    if (!blob) {
      merged.set(root, { ...run });
      continue;
    }
    blob.minX = Math.min(blob.minX, run.minX);
    blob.maxX = Math.max(blob.maxX, run.maxX);
    blob.minY = Math.min(blob.minY, run.minY);
    blob.maxY = Math.max(blob.maxY, run.maxY);
    blob.area += run.area;
  }
  return [...merged.values()].filter((blob) => blob.area >= minArea).sort((a, b) => a.minY - b.minY || a.minX - b.minX);
}
