import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let cached: string | null | undefined;

/**
 * Finds an ffmpeg binary: `FFMPEG_PATH`, then the one shipped by the
 * `@ffmpeg-installer/ffmpeg` package (a dev dependency of this repository; users may
 * install it), then `ffmpeg` on the PATH (e.g. Debian's package). Null when none works.
 */
export function findFfmpeg(): string | null {
  if (cached !== undefined) return cached;
  const candidates: string[] = [];
  if (process.env.FFMPEG_PATH) candidates.push(process.env.FFMPEG_PATH);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const installer = require('@ffmpeg-installer/ffmpeg') as { path?: string };
    if (installer.path) candidates.push(installer.path);
  } catch {
    // Not installed: fall through to the PATH.
  }
  candidates.push('ffmpeg');
  cached = null;
  for (const candidate of candidates) {
    if (candidate !== 'ffmpeg' && !existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status === 0) {
      cached = candidate;
      break;
    }
  }
  return cached;
}

/** ffmpeg, or an error that says how to get it. */
export function requireFfmpeg(): string {
  const found = findFfmpeg();
  if (!found) {
    throw new Error(
      'ffmpeg not found: video files, RTSP and MJPEG need it. Install it (apt install ffmpeg), ' +
        'or `npm install @ffmpeg-installer/ffmpeg`, or set FFMPEG_PATH.',
    );
  }
  return found;
}
