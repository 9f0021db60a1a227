import { strict as assert } from 'node:assert';
import sharp from 'sharp';
import { RoboflowError, decodeImage, encodeI420AsJpeg, rgbaToI420 } from '../../lib';
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
});
