import { strict as assert } from 'node:assert';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { RoboflowError, ResultReassembler, decodeResultPayload, decodeResultText, encodeUploadChunk, parseResultChunk } from '../../lib';

function chunk(frameId: number, index: number, total: number, payload: Uint8Array): Uint8Array {
  const message = new Uint8Array(12 + payload.byteLength);
  const view = new DataView(message.buffer);
  view.setUint32(0, frameId, true);
  view.setUint32(4, index, true);
  view.setUint32(8, total, true);
  message.set(payload, 12);
  return message;
}

function split(frameId: number, payload: Uint8Array, size = 49_152): Uint8Array[] {
  const total = Math.max(1, Math.ceil(payload.byteLength / size));
  return Array.from({ length: total }, (_, index) => chunk(frameId, index, total, payload.subarray(index * size, (index + 1) * size)));
}

const doc = (frameId: number, extra: Record<string, unknown> = {}): Uint8Array =>
  Buffer.from(
    JSON.stringify({
      serialized_output_data: { count: frameId },
      video_metadata: { frame_id: frameId, received_at: '2026-05-01T17:05:33.120345' },
      errors: [],
      processing_complete: false,
      termination_reason: null,
      ...extra,
    }),
  );

/** Fuzzing runs for a fixed time, not a fixed count: a few seconds always, a minute with ROBOFLOW_SOAK=1. */
const FUZZ_SECONDS = process.env.ROBOFLOW_SOAK === '1' ? 60 : 3;
const FUZZ_BUDGET = { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: FUZZ_SECONDS * 1000, markInterruptAsFailure: false };

describe('result chunks', () => {
  it('reads the 12-byte little-endian header', () => {
    const parsed = parseResultChunk(chunk(0x01020304, 2, 5, new Uint8Array([9, 8])));
    assert.deepEqual({ ...parsed, payload: [...(parsed?.payload ?? [])] }, { frameId: 0x01020304, chunkIndex: 2, totalChunks: 5, payload: [9, 8] });
    assert.equal(parseResultChunk(new Uint8Array(11)), undefined);
  });

  it('reassembles a multi-chunk frame whatever the arrival order', () => {
    const payload = Buffer.alloc(150_000, 7);
    payload.write('start', 0);
    payload.write('end', 149_997);
    const parts = split(42, payload);
    assert.equal(parts.length, 4);
    const reassembler = new ResultReassembler();
    assert.equal(reassembler.push(parts[2]).kind, 'partial');
    assert.equal(reassembler.push(parts[0]).kind, 'partial');
    assert.equal(reassembler.push(parts[3]).kind, 'partial');
    const outcome = reassembler.push(parts[1]);
    assert.equal(outcome.kind, 'complete');
    if (outcome.kind === 'complete') {
      assert.equal(outcome.frameId, 42);
      assert.ok(Buffer.from(outcome.payload).equals(payload));
    }
    assert.equal(reassembler.pendingFrames, 0);
    assert.equal(reassembler.heldBytes, 0);
  });

  it('interleaves frames', () => {
    const a = split(1, Buffer.alloc(60_000, 1));
    const b = split(2, Buffer.alloc(60_000, 2));
    const reassembler = new ResultReassembler();
    const outcomes = [a[0], b[0], b[1], a[1]].map((part) => reassembler.push(part));
    assert.deepEqual(
      outcomes.map((outcome) => (outcome.kind === 'complete' ? outcome.frameId : outcome.kind)),
      ['partial', 'partial', 2, 1],
    );
  });

  it('rejects forged headers: zero chunks, index out of range, huge counts, oversize chunks', () => {
    const reassembler = new ResultReassembler();
    assert.equal(reassembler.push(chunk(1, 0, 0, new Uint8Array(1))).kind, 'rejected');
    assert.equal(reassembler.push(chunk(1, 5, 5, new Uint8Array(1))).kind, 'rejected');
    assert.equal(reassembler.push(chunk(1, 0, 0xffffffff, new Uint8Array(1))).kind, 'rejected');
    assert.equal(reassembler.push(chunk(1, 0, 2, new Uint8Array(49_153))).kind, 'rejected');
    assert.equal(reassembler.push(new Uint8Array(3)).kind, 'rejected');
    assert.equal(reassembler.pendingFrames, 0);
  });

  it('bounds memory: old unfinished frames are dropped', () => {
    const reassembler = new ResultReassembler({ maxPendingFrames: 3, maxPendingBytes: 1_000_000 });
    for (let frame = 1; frame <= 10; frame++) reassembler.push(chunk(frame, 0, 2, new Uint8Array(100)));
    assert.equal(reassembler.pendingFrames, 3);
    assert.equal(reassembler.dropped, 7);
    const small = new ResultReassembler({ maxPendingFrames: 100, maxPendingBytes: 200_000 });
    for (let frame = 1; frame <= 10; frame++) small.push(chunk(frame, 0, 3, new Uint8Array(49_152)));
    assert.ok(small.heldBytes <= 200_000);
  });

  it(`survives random and hostile input (property test, ${FUZZ_SECONDS} s)`, function () {
    this.timeout((FUZZ_SECONDS + 30) * 1000);
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 64 }),
            fc
              .record({ frame: fc.integer({ min: 0, max: 20 }), index: fc.nat(8), total: fc.oneof(fc.nat(8), fc.constant(0xffffffff)), size: fc.nat(2_000) })
              .map(({ frame, index, total, size }) => chunk(frame, index, total, new Uint8Array(size))),
          ),
          { maxLength: 200 },
        ),
        (messages) => {
          const reassembler = new ResultReassembler({ maxPendingFrames: 8, maxPendingBytes: 64_000 });
          for (const message of messages) {
            const outcome = reassembler.push(message);
            if (outcome.kind === 'complete') {
              try {
                decodeResultPayload(outcome.payload);
              } catch (error) {
                assert.ok(error instanceof RoboflowError && error.code === 'protocol');
              }
            }
            assert.ok(reassembler.pendingFrames <= 8);
            assert.ok(reassembler.heldBytes <= 64_000 + 2_000);
          }
        },
      ),
      FUZZ_BUDGET,
    );
  });

  it(`text results: any string decodes or fails with a protocol error (property test, ${FUZZ_SECONDS} s)`, function () {
    this.timeout((FUZZ_SECONDS + 30) * 1000);
    const protocolOnly = (decode: () => unknown): void => {
      try {
        decode();
      } catch (error) {
        assert.ok(error instanceof RoboflowError && error.code === 'protocol', String(error));
      }
    };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.uint8Array({ maxLength: 512 }).map((bytes) => gzipSync(bytes).toString('latin1')),
        ),
        (text) => {
          protocolOnly(() => decodeResultText(text));
          protocolOnly(() => decodeResultPayload(new TextEncoder().encode(text)));
        },
      ),
      FUZZ_BUDGET,
    );
  });

  it('builds upload chunks with an 8-byte little-endian header', () => {
    const message = encodeUploadChunk(3, 10, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...message], [3, 0, 0, 0, 10, 0, 0, 0, 1, 2, 3]);
  });
});

describe('result payloads', () => {
  it('decodes plain JSON and gzip (detected by magic bytes) alike', () => {
    const plain = decodeResultPayload(doc(5));
    const zipped = decodeResultPayload(gzipSync(doc(5)));
    assert.deepEqual(zipped, plain);
    assert.deepEqual(plain.serialized_output_data, { count: 5 });
    assert.equal(plain.video_metadata?.frame_id, 5);
  });

  it('accepts a JSON text message too', () => {
    assert.equal(decodeResultText(Buffer.from(doc(7)).toString()).video_metadata?.frame_id, 7);
  });

  it('reads the completion message', () => {
    const done = decodeResultPayload(doc(9, { serialized_output_data: null, processing_complete: true, termination_reason: 'timeout_reached' }));
    assert.equal(done.processing_complete, true);
    assert.equal(done.termination_reason, 'timeout_reached');
    assert.equal(done.serialized_output_data, null);
  });

  it('fills fields an older server leaves out', () => {
    const minimal = decodeResultText('{"serialized_output_data": {"a": 1}}');
    assert.deepEqual(minimal, { serialized_output_data: { a: 1 }, video_metadata: null, errors: [], processing_complete: false, termination_reason: null });
  });

  for (const [name, bytes] of [
    ['not JSON', Buffer.from('hello')],
    ['a JSON array', Buffer.from('[1,2]')],
    ['broken gzip', Buffer.from([0x1f, 0x8b, 1, 2, 3])],
    ['errors not a list', Buffer.from('{"errors": "x"}')],
    ['metadata without frame_id', Buffer.from('{"video_metadata": {"pts": 1}}')],
  ] as const) {
    it(`rejects ${name} with a protocol error`, () => {
      assert.throws(
        () => decodeResultPayload(bytes),
        (error: RoboflowError) => error.code === 'protocol',
      );
    });
  }
});
