import { openImage } from '../image';

/**
 * A small grey copy of an encoded image (JPEG, PNG, WebP from the flow), about `width`
 * pixels on its longest side: what the motion detector compares. libvips shrinks a JPEG
 * while it loads, so this costs a fraction of decoding the full picture. Throws the
 * engine's clear error for what is not a readable image.
 */
export async function greyCopy(image: Uint8Array, width: number): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { pipeline } = await openImage(image, { maxSide: width }, 'Frame');
  const { data, info } = await pipeline.removeAlpha().greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  // Some inputs keep three identical channels after greyscale(): one of them is the grey picture.
  const grey = new Uint8Array(info.width * info.height);
  for (let index = 0; index < grey.length; index++) grey[index] = data[index * info.channels];
  return { width: info.width, height: info.height, data: grey };
}
