import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, createDeflate } from 'node:zlib';
import sharp from 'sharp';
import { generateSceneVideo } from '../../server/media/generate';
import { getScene, renderScene, type Scene } from '../../server/media/scenes';
import { ROOT } from './local-server';

export const MEDIA_DIR = join(ROOT, '.tmp', 'test-media');
mkdirSync(MEDIA_DIR, { recursive: true });

const made = new Map<string, Promise<string>>();

/** The frame at which the person of quietDoorway() steps in. */
export const DOORWAY_ENTRY = 30;

/**
 * What a gate is for: an empty doorway for 3 s, a red "person" crossing it for 3 s, then
 * empty again for 10 s; 320x180 at 10 fps. `name` keeps each suite's video file apart;
 * `doorFrame` adds a still green door frame (something always seen, never moving).
 */
export function quietDoorway(name: string, options: { doorFrame?: boolean } = {}): Scene {
  return {
    name,
    description: 'empty 3 s, a red person crossing 3 s, empty 10 s; 320x180 at 10 fps',
    width: 320,
    height: 180,
    fps: 10,
    frames: 160,
    background: [40, 40, 40],
    objects: [
      ...(options.doorFrame ? [{ name: 'door-frame', color: 'green' as const, shape: 'rect' as const, width: 12, height: 100, at: () => ({ x: 280, y: 60 }) }] : []),
      {
        name: 'person',
        color: 'red',
        shape: 'rect',
        width: 30,
        height: 76,
        at: (index) => (index >= DOORWAY_ENTRY && index < DOORWAY_ENTRY + 30 ? { x: 20 + (index - DOORWAY_ENTRY) * 6, y: 80 } : null),
      },
    ],
  };
}

/** A generated video of a scene (made once per test run). */
export function sceneVideo(name: string, options: { loops?: number; codec?: 'h264' | 'mjpeg' } = {}): Promise<string> {
  const key = `${name}-${options.loops ?? 1}-${options.codec ?? 'h264'}`;
  let path = made.get(key);
  if (!path) {
    const file = join(MEDIA_DIR, `${key}.${options.codec === 'mjpeg' ? 'avi' : 'mp4'}`);
    path = generateSceneVideo(getScene(name), file, options).then(() => file);
    made.set(key, path);
  }
  return path;
}

/** Frame `index` of a scene as an encoded image. */
export function sceneImage(name: string, index: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const scene = getScene(name);
  const image = sharp(renderScene(scene, index), { raw: { width: scene.width, height: scene.height, channels: 4 } });
  return (format === 'png' ? image.png() : image.jpeg({ quality: 90 })).toBuffer();
}

/**
 * A PNG that claims `width`x`height` pixels but weighs little (every row black, which
 * deflates about 1000:1): a 16000x16000 one is about 780 KB and 768 MB once decoded to
 * RGB. Written once per run to the media folder, row by row (never in memory whole).
 */
export function sparsePng(width: number, height: number): Promise<string> {
  const key = `sparse-${width}x${height}`;
  let path = made.get(key);
  if (!path) {
    const file = join(MEDIA_DIR, `${key}.png`);
    path = writeSparsePng(file, width, height).then(() => file);
    made.set(key, path);
  }
  return path;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.byteLength, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

async function writeSparsePng(file: string, width: number, height: number): Promise<void> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  const deflate = createDeflate({ level: 9 });
  const compressed: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
  const ended = new Promise<void>((resolve, reject) => deflate.on('end', resolve).on('error', reject));
  const row = Buffer.alloc(1 + width * 3); // filter byte 0, then black pixels
  for (let y = 0; y < height; y++) {
    if (!deflate.write(row)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  writeFileSync(file, Buffer.concat([signature, pngChunk('IHDR', header), pngChunk('IDAT', Buffer.concat(compressed)), pngChunk('IEND', Buffer.alloc(0))]));
}
