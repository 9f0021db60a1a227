import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RoboflowError, checkVideoFile } from '../../lib';
import { FileUploader } from '../../lib/stream/uploader';
import { MEDIA_DIR } from '../helpers/media';
import { unprivilegedSandbox, type UnprivilegedSandbox } from '../helpers/unprivileged';

/** A data channel stand-in whose buffer drains on a timer, like SCTP would. */
class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'open';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  maxBuffered = 0;
  sent: Uint8Array[] = [];
  private timer = setInterval(() => {
    this.bufferedAmount = Math.max(0, this.bufferedAmount - 100_000);
    if (this.bufferedAmount <= this.bufferedAmountLowThreshold) this.dispatchEvent(new Event('bufferedamountlow'));
  }, 2);
  send(data: Uint8Array): void {
    this.sent.push(new Uint8Array(data));
    this.bufferedAmount += data.byteLength;
    this.maxBuffered = Math.max(this.maxBuffered, this.bufferedAmount);
  }
  close(): void {
    clearInterval(this.timer);
  }
}

/**
 * Runs checkVideoFile on a file of `dir` as a user who may not read it: a child as
 * `nobody` when this process is root (root reads any file), else this user. The child
 * runs from a world-readable copy of the engine code, so this works from a checkout in a
 * 0700 directory too.
 */
function checkAsUnprivilegedUser(sandbox: UnprivilegedSandbox, path: string): string {
  return sandbox.run(`engine.checkVideoFile(${JSON.stringify(path)}).then(() => console.log('readable'), (error) => console.log(error.message))`);
}

describe('file uploader', () => {
  const dir = join(MEDIA_DIR, 'uploader');
  mkdirSync(dir, { recursive: true });

  it('sends 49,152-byte chunks with index/total headers, waits on backpressure, reports progress', async () => {
    const size = 49_152 * 20 + 1234;
    const content = Buffer.alloc(size);
    for (let i = 0; i < size; i++) content[i] = (i * 7) % 251;
    const path = join(dir, 'clip.bin');
    writeFileSync(path, content);
    const channel = new FakeChannel();
    const progress: number[] = [];
    await new FileUploader(path, channel as unknown as RTCDataChannel, (p) => progress.push(p.percent)).upload();
    channel.close();
    assert.equal(channel.sent.length, 21);
    const rebuilt = Buffer.concat(
      channel.sent.map((message, index) => {
        const view = new DataView(message.buffer);
        assert.equal(view.getUint32(0, true), index);
        assert.equal(view.getUint32(4, true), 21);
        assert.ok(message.byteLength - 8 <= 49_152);
        return message.subarray(8);
      }),
    );
    assert.ok(rebuilt.equals(content));
    assert.ok(channel.maxBuffered <= 262_144 + 49_160, `buffered up to ${channel.maxBuffered}`);
    assert.equal(progress[progress.length - 1], 100);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );
  });

  it('stops with a clear error when the channel closes mid-upload', async () => {
    const path = join(dir, 'big.bin');
    writeFileSync(path, Buffer.alloc(49_152 * 50));
    const channel = new FakeChannel();
    const uploader = new FileUploader(path, channel as unknown as RTCDataChannel, (p) => {
      if (p.percent > 30) channel.readyState = 'closed';
    });
    await assert.rejects(uploader.upload(), (error: RoboflowError) => error.code === 'network' && error.message.includes('interrupted'));
    channel.close();
  });

  it('refuses missing, empty, directory and unreadable paths before any network use', async () => {
    const empty = join(dir, 'empty.mp4');
    writeFileSync(empty, '');
    // In a directory anyone may enter: the child can see the file, only not read it.
    const sandbox = unprivilegedSandbox('lib/stream/uploader.ts');
    const unreadable = join(sandbox.dir, 'secret.mp4');
    writeFileSync(unreadable, 'x');
    chmodSync(unreadable, 0o000);
    await assert.rejects(checkVideoFile(join(dir, 'nope.mp4')), /Video file not found/);
    await assert.rejects(checkVideoFile(empty), /Video file is empty/);
    await assert.rejects(checkVideoFile(dir), /found a directory/);
    await assert.rejects(checkVideoFile(''), /No video file given/);
    try {
      assert.match(checkAsUnprivilegedUser(sandbox, unreadable), /Video file not readable \(permission denied\)/);
      // The same child reads a file it may read: the refusal above is the permission, nothing else.
      const readable = join(sandbox.dir, 'public.mp4');
      writeFileSync(readable, 'x');
      chmodSync(readable, 0o644);
      assert.match(checkAsUnprivilegedUser(sandbox, readable), /^readable$/m);
    } finally {
      sandbox.remove();
    }
  });
});
