import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { RoboflowError, decodeImage, encodeI420AsJpeg, renderSnapshot, rgbaToI420 } from '../../lib';
import { ROOT } from '../helpers/local-server';
import { sceneImage, sparsePng } from '../helpers/media';

/** Peak RSS growth allowed while one image is decoded (measured here: 2 MB refusing 16000x16000, 47-99 MB scaling 7000x7000 down; before the cap: 1 GB and 1.8 GB). */
const GROWTH_BOUND_MB = 256;

interface ProbeOutcome {
  ok: boolean;
  width?: number;
  height?: number;
  message?: string;
  growthMB: number;
}

/** Decodes `file` in a fresh process (see decode-probe.ts), so its peak RSS is this image's alone. */
async function probe(kind: 'frame' | 'snapshot', file: string): Promise<ProbeOutcome> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', join(ROOT, 'test', 'helpers', 'decode-probe.ts'), kind, file], { cwd: ROOT, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ProbeOutcome;
}

describe('frame source (JPEG/PNG -> I420)', () => {
  it('decodes JPEG and PNG to RGBA of the image size', async () => {
    for (const format of ['jpeg', 'png'] as const) {
      const decoded = await decodeImage(await sceneImage('two-squares', 0, format));
      assert.equal(decoded.width, 320);
      assert.equal(decoded.height, 240);
      assert.equal(decoded.rgba.byteLength, 320 * 240 * 4);
    }
  });

  it('crops odd sizes to even (I420 halves the chroma planes)', async () => {
    const png = await sharp({ create: { width: 33, height: 21, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer();
    const decoded = await decodeImage(png);
    assert.deepEqual([decoded.width, decoded.height], [32, 20]);
    const i420 = rgbaToI420(decoded);
    assert.equal(i420.data.byteLength, 32 * 20 * 1.5);
  });

  it('converts colours faithfully through I420 and back', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 220, g: 30, b: 30 } } }).png().toBuffer();
    const i420 = rgbaToI420(await decodeImage(png));
    const jpeg = await encodeI420AsJpeg(i420, 95);
    const { data } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    assert.ok(Math.abs(data[0] - 220) < 12 && data[1] < 45 && data[2] < 45, `got ${data[0]},${data[1]},${data[2]}`);
  });

  for (const [name, bytes] of [
    ['an empty buffer', Buffer.alloc(0)],
    ['random bytes', Buffer.from('this is not an image at all')],
    ['a truncated JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46])],
  ] as const) {
    it(`rejects ${name} with a clear invalid-input error`, async () => {
      await assert.rejects(decodeImage(bytes), (error: RoboflowError) => error.code === 'invalid-input' && /Frame is (empty|not a readable image)/.test(error.message));
    });
  }

  describe('bounded memory for any image', function () {
    this.timeout(90_000);

    for (const kind of ['frame', 'snapshot'] as const) {
      it(`${kind}: a 16000x16000 PNG (780 KB) is one clear error before anything is decoded; memory stays small`, async () => {
        const outcome = await probe(kind, await sparsePng(16000, 16000));
        assert.equal(outcome.ok, false, JSON.stringify(outcome));
        assert.match(outcome.message!, /is 16000x16000 \(256 MP\): larger than the 50 MP that are decoded at most; send a smaller image/);
        assert.ok(outcome.growthMB < GROWTH_BOUND_MB, `peak RSS grew ${outcome.growthMB} MB`);
      });

      it(`${kind}: a 7000x7000 PNG (49 MP) is scaled down to 1920x1920 while it is decoded; memory stays bounded`, async () => {
        const outcome = await probe(kind, await sparsePng(7000, 7000));
        assert.deepEqual([outcome.ok, outcome.width, outcome.height], [true, 1920, 1920], JSON.stringify(outcome));
        assert.ok(outcome.growthMB < GROWTH_BOUND_MB, `peak RSS grew ${outcome.growthMB} MB`);
      });
    }

    it('the working size is configurable: a 3000x1000 JPEG with maxSide 640 becomes 640x212 (even for I420)', async () => {
      const jpeg = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: { r: 10, g: 200, b: 10 } } }).jpeg().toBuffer();
      const decoded = await decodeImage(jpeg, { maxSide: 640 });
      assert.deepEqual([decoded.width, decoded.height], [640, 212]);
      await assert.rejects(decodeImage(jpeg, { maxInputPixels: 1_000_000 }), /3000x1000 \(3 MP\): larger than the 1 MP/);
    });

    it('a snapshot of a large frame is scaled down with its boxes', async () => {
      const frame = await sharp({ create: { width: 3840, height: 2160, channels: 3, background: { r: 40, g: 40, b: 40 } } }).jpeg().toBuffer();
      // A box at the centre of the 4K frame, drawn in the alert colour.
      const snapshot = await renderSnapshot(frame, [{ box: { x: 1920, y: 1080, width: 800, height: 800 }, label: 'person', highlight: true }], { draw: true });
      assert.deepEqual([snapshot.width, snapshot.height], [1920, 1080]);
      const { data, info } = await sharp(snapshot.jpeg).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height], [1920, 1080]);
      // The left edge of the box is at x = (1920 - 400) / 2 = 760 in the scaled picture.
      const at = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
      const [r, g] = at(761, 540);
      assert.ok(r > 200 && g < 120, `the box edge is drawn where the scaled box is: ${at(761, 540)}`);
      assert.ok(at(900, 540)[0] < 80, 'inside the box is the frame');
    });
  });
});
