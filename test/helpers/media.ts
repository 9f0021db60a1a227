import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { generateSceneVideo } from '../../server/media/generate';
import { getScene, renderScene } from '../../server/media/scenes';
import { ROOT } from './local-server';

export const MEDIA_DIR = join(ROOT, '.tmp', 'test-media');
mkdirSync(MEDIA_DIR, { recursive: true });

const made = new Map<string, Promise<string>>();

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
