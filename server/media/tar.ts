import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** One 512-byte ustar header. */
function header(name: string, size: number, mtime: number): Buffer {
  const block = Buffer.alloc(512);
  const octal = (value: number, length: number): string => value.toString(8).padStart(length - 1, '0') + '\0';
  block.write(name.slice(0, 99), 0, 'utf8');
  block.write(octal(0o644, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write('0', 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'ascii');
  return block;
}

/**
 * Packs files into a plain tar archive (what a Batch Processing export stage hands
 * out), streaming each file: memory stays small whatever the sizes.
 */
export async function writeTar(target: string, files: string[]): Promise<void> {
  const out = createWriteStream(target);
  const write = (chunk: Buffer): Promise<void> => new Promise((resolve, reject) => out.write(chunk, (error) => (error ? reject(error) : resolve())));
  for (const file of files) {
    const info = await stat(file);
    await write(header(basename(file), info.size, info.mtimeMs));
    await pipeline(createReadStream(file), out, { end: false });
    const padding = (512 - (info.size % 512)) % 512;
    if (padding > 0) await write(Buffer.alloc(padding));
  }
  await write(Buffer.alloc(1024));
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}
