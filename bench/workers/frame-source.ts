import sharp from 'sharp';
import { decodeImage, rgbaToI420 } from '../../lib';
import { loadWrtc } from '../../lib/stream/wrtc';
import { makeFrames } from '../lib/frames';
import { percentile, report, round } from '../lib/measure';

/**
 * What a `frames` stream pays per picture before WebRTC: JPEG decode (sharp) and the
 * RGBA -> I420 conversion, for a 1280x720 frame, against a 30 fps stream's 33 ms.
 *
 * Usage: frame-source.ts <frames>
 */
const COUNT = Number(process.argv[2] ?? 100);

async function main(): Promise<void> {
  // A realistic 720p JPEG: the benchmark's textured frame, encoded at quality 85.
  const { frames } = makeFrames(1280, 720, 16);
  const { nonstandard } = loadWrtc();
  const rgba = new Uint8ClampedArray(1280 * 720 * 4);
  nonstandard.i420ToRgba(frames[5], { width: 1280, height: 720, data: rgba });
  const jpeg = await sharp(Buffer.from(rgba.buffer), { raw: { width: 1280, height: 720, channels: 4 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  const timings: number[] = [];
  for (let i = 0; i < COUNT + 5; i++) {
    const started = performance.now();
    rgbaToI420(await decodeImage(jpeg));
    if (i >= 5) timings.push(performance.now() - started);
  }
  report({
    width: 1280,
    height: 720,
    jpegKb: round(jpeg.byteLength / 1024, 0),
    frames: COUNT,
    msPerFrame: { p50: round(percentile(timings, 50), 2), p95: round(percentile(timings, 95), 2) },
    budgetMs: round(1000 / 30, 1),
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
