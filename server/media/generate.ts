import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { requireFfmpeg } from '../../lib/media/ffmpeg';
import { spawnChild } from './children';
import { renderScene, type Scene } from './scenes';

export interface GenerateOptions {
  /** Repeat the scene this many times (longer files for soak tests and benchmarks). */
  loops?: number;
  /** `h264` (MP4, default) or `mjpeg` (AVI). */
  codec?: 'h264' | 'mjpeg';
}

/**
 * Writes a scene to a video file by piping rendered RGBA frames into ffmpeg. H.264 with
 * a one-second keyframe interval, so an RTSP viewer joining mid-stream starts quickly.
 */
export async function generateSceneVideo(scene: Scene, path: string, options: GenerateOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const codecArgs =
    options.codec === 'mjpeg'
      ? ['-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p']
      : ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '14', '-pix_fmt', 'yuv420p', '-g', String(scene.fps), '-movflags', '+faststart'];
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${scene.width}x${scene.height}`, '-r', String(scene.fps), '-i', 'pipe:0', ...codecArgs, path];
  const child = spawnChild(requireFfmpeg().path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  const { stdin, stderr: errors } = child;
  if (!stdin || !errors) throw new Error('ffmpeg started without its pipes');
  let stderr = '';
  errors.setEncoding('utf8');
  errors.on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg could not write ${path}: ${stderr.trim()}`))));
  });
  const stdinFailed = new Promise<never>((_, reject) => stdin.on('error', reject));
  const loops = options.loops ?? 1;
  for (let loop = 0; loop < loops; loop++) {
    for (let index = 0; index < scene.frames; index++) {
      if (!stdin.write(renderScene(scene, index))) {
        await Promise.race([new Promise((resolve) => stdin.once('drain', resolve)), stdinFailed]);
      }
    }
  }
  stdin.end();
  await exited;
}
