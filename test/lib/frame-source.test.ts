import { strict as assert } from 'node:assert';
import sharp from 'sharp';
import { RoboflowError, decodeImage, encodeI420AsJpeg, renderSnapshot, rgbaToI420 } from '../../lib';
import { sceneImage } from '../helpers/media';

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
    const png = await sharp({ create: { width: 33, height: 21, channels: 3, background: { r: 200, g: 10, b: 10 } } })
      .png()
      .toBuffer();
    const decoded = await decodeImage(png);
    assert.deepEqual([decoded.width, decoded.height], [32, 20]);
    const i420 = rgbaToI420(decoded);
    assert.equal(i420.data.byteLength, 32 * 20 * 1.5);
  });

  it('converts colours faithfully through I420 and back', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 220, g: 30, b: 30 } } })
      .png()
      .toBuffer();
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

  describe('bounded memory for any image', () => {
    it('the working size is configurable: a 3000x1000 JPEG with maxSide 640 becomes 640x212 (even for I420)', async () => {
      const jpeg = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: { r: 10, g: 200, b: 10 } } })
        .jpeg()
        .toBuffer();
      const decoded = await decodeImage(jpeg, { maxSide: 640 });
      assert.deepEqual([decoded.width, decoded.height], [640, 212]);
      await assert.rejects(decodeImage(jpeg, { maxInputPixels: 1_000_000 }), /3000x1000 \(3 MP\): larger than the 1 MP/);
    });

    it('a snapshot of a large frame is scaled down with its boxes', async () => {
      const frame = await sharp({ create: { width: 3840, height: 2160, channels: 3, background: { r: 40, g: 40, b: 40 } } })
        .jpeg()
        .toBuffer();
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
