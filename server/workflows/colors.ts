/**
 * The colour classes the local server's detector knows. Each is a hue band; pixels
 * that are dark or unsaturated are background. Classification goes through a 32x32x32
 * lookup table, so it costs one array read per pixel.
 */

export const COLOR_NAMES = ['red', 'yellow', 'green', 'cyan', 'blue', 'magenta'] as const;
export type ColorName = (typeof COLOR_NAMES)[number];

export const COLORS: Record<ColorName, { id: number; rgb: [number, number, number] }> = {
  red: { id: 0, rgb: [220, 30, 30] },
  yellow: { id: 1, rgb: [230, 210, 30] },
  green: { id: 2, rgb: [30, 180, 60] },
  cyan: { id: 3, rgb: [30, 200, 210] },
  blue: { id: 4, rgb: [40, 70, 220] },
  magenta: { id: 5, rgb: [200, 40, 200] },
};

export const BACKGROUND = 255;

function classify(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const delta = max - min;
  if (max < 70 || delta < 0.4 * max) return BACKGROUND;
  let hue: number;
  if (max === r) hue = 60 * (((g - b) / delta) % 6);
  else if (max === g) hue = 60 * ((b - r) / delta + 2);
  else hue = 60 * ((r - g) / delta + 4);
  if (hue < 0) hue += 360;
  const band = Math.floor(((hue + 30) % 360) / 60);
  return band; // 0 red, 1 yellow, 2 green, 3 cyan, 4 blue, 5 magenta
}

let table: Uint8Array | undefined;

/** Lookup table indexed by 5-bit r, g, b: colour id or BACKGROUND. */
export function colorTable(): Uint8Array {
  if (table) return table;
  table = new Uint8Array(32 * 32 * 32);
  for (let r = 0; r < 32; r++) {
    for (let g = 0; g < 32; g++) {
      for (let b = 0; b < 32; b++) {
        table[(r << 10) | (g << 5) | b] = classify(r * 8 + 4, g * 8 + 4, b * 8 + 4);
      }
    }
  }
  return table;
}
