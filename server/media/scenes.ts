import { COLORS, type ColorName } from '../workflows/colors';

/**
 * Synthetic test scenes: solid coloured shapes moving over a dark background along
 * known paths. Tests know where every object is in every frame, so they can assert
 * exact detections. Coordinates are whole, even pixels (exact through 4:2:0 video).
 */

export interface SceneObject {
  /** Stable name, for tests ("red-square"). */
  name: string;
  color: ColorName;
  shape: 'rect' | 'circle';
  width: number;
  height: number;
  /** Top-left corner at frame `index` (0-based), or null while the object is absent. */
  at(index: number, scene: Scene): { x: number; y: number } | null;
}

export interface Scene {
  name: string;
  description: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  background: [number, number, number];
  objects: SceneObject[];
}

export interface ExpectedBox {
  object: string;
  color: ColorName;
  /** Box centre and size, in pixels, as Roboflow reports them. */
  x: number;
  y: number;
  width: number;
  height: number;
}

const even = (value: number): number => 2 * Math.round(value / 2);

/** Linear motion from `from` to `to` over the scene. */
function glide(from: [number, number], to: [number, number]): SceneObject['at'] {
  return (index, scene) => {
    const t = scene.frames <= 1 ? 0 : index / (scene.frames - 1);
    return { x: even(from[0] + (to[0] - from[0]) * t), y: even(from[1] + (to[1] - from[1]) * t) };
  };
}

export const SCENES: Record<string, Scene> = {
  'two-squares': {
    name: 'two-squares',
    description: 'A red square moving right and a blue square moving left, 320x240, 2 s at 15 fps',
    width: 320,
    height: 240,
    fps: 15,
    frames: 30,
    background: [32, 32, 32],
    objects: [
      { name: 'red-square', color: 'red', shape: 'rect', width: 48, height: 48, at: glide([16, 40], [240, 40]) },
      { name: 'blue-square', color: 'blue', shape: 'rect', width: 40, height: 40, at: glide([260, 150], [20, 150]) },
    ],
  },
  door: {
    name: 'door',
    description: 'A person-sized red shape walks in, stops at the door on the right, and leaves; 640x360, 10 s at 10 fps',
    width: 640,
    height: 360,
    fps: 10,
    frames: 100,
    background: [40, 44, 48],
    objects: [
      {
        name: 'visitor',
        color: 'red',
        shape: 'rect',
        width: 60,
        height: 150,
        at: (index) => {
          // Walk in (0-39), wait at the door (40-69), walk out (70-89), gone (90-99).
          if (index >= 90) return null;
          const x = index < 40 ? 20 + index * 11 : index < 70 ? 460 : 460 - (index - 70) * 22;
          return { x: even(x), y: 160 };
        },
      },
      { name: 'door-frame', color: 'green', shape: 'rect', width: 24, height: 200, at: () => ({ x: 560, y: 120 }) },
    ],
  },
  crossing: {
    name: 'crossing',
    description: 'Two yellow circles passing each other in opposite directions (never touching), 320x240, 3 s at 10 fps',
    width: 320,
    height: 240,
    fps: 10,
    frames: 30,
    background: [30, 30, 30],
    objects: [
      { name: 'left-ball', color: 'yellow', shape: 'circle', width: 36, height: 36, at: glide([10, 70], [270, 80]) },
      { name: 'right-ball', color: 'yellow', shape: 'circle', width: 36, height: 36, at: glide([270, 130], [10, 120]) },
    ],
  },
  flicker: {
    name: 'flicker',
    description: 'A green square that vanishes for frames 10 and 11, 320x240, 2 s at 10 fps',
    width: 320,
    height: 240,
    fps: 10,
    frames: 20,
    background: [30, 30, 30],
    objects: [
      {
        name: 'green-square',
        color: 'green',
        shape: 'rect',
        width: 50,
        height: 50,
        at: (index, scene) => (index === 10 || index === 11 ? null : glide([30, 90], [230, 90])(index, scene)),
      },
    ],
  },
};

export function getScene(name: string): Scene {
  const scene = SCENES[name];
  if (!scene) throw new Error(`Unknown scene "${name}". Known: ${Object.keys(SCENES).join(', ')}`);
  return scene;
}

/** Draws frame `index` of a scene as RGBA. */
export function renderScene(scene: Scene, index: number): Buffer {
  const { width, height } = scene;
  const rgba = Buffer.allocUnsafe(width * height * 4);
  const [br, bg, bb] = scene.background;
  for (let offset = 0; offset < rgba.length; offset += 4) {
    rgba[offset] = br;
    rgba[offset + 1] = bg;
    rgba[offset + 2] = bb;
    rgba[offset + 3] = 255;
  }
  for (const object of scene.objects) {
    const position = object.at(index, scene);
    if (!position) continue;
    const [r, g, b] = COLORS[object.color].rgb;
    const rx = object.width / 2;
    const ry = object.height / 2;
    for (let y = Math.max(0, position.y); y < Math.min(height, position.y + object.height); y++) {
      for (let x = Math.max(0, position.x); x < Math.min(width, position.x + object.width); x++) {
        if (object.shape === 'circle') {
          const dx = (x + 0.5 - position.x - rx) / rx;
          const dy = (y + 0.5 - position.y - ry) / ry;
          if (dx * dx + dy * dy > 1) continue;
        }
        const offset = (y * width + x) * 4;
        rgba[offset] = r;
        rgba[offset + 1] = g;
        rgba[offset + 2] = b;
      }
    }
  }
  return rgba;
}

/** Where each visible object is in frame `index` (clipped to the image), as detections report it. */
export function expectedBoxes(scene: Scene, index: number): ExpectedBox[] {
  const boxes: ExpectedBox[] = [];
  for (const object of scene.objects) {
    const position = object.at(index, scene);
    if (!position) continue;
    const left = Math.max(0, position.x);
    const top = Math.max(0, position.y);
    const right = Math.min(scene.width, position.x + object.width);
    const bottom = Math.min(scene.height, position.y + object.height);
    if (right <= left || bottom <= top) continue;
    boxes.push({ object: object.name, color: object.color, x: (left + right) / 2, y: (top + bottom) / 2, width: right - left, height: bottom - top });
  }
  return boxes;
}
