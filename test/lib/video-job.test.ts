import { strict as assert } from 'node:assert';
import { normaliseJobResults, normaliseJobStatus } from '../../lib';

describe('video job answers', () => {
  it('reads numeric (model job) statuses', () => {
    assert.equal(normaliseJobStatus({ status: 1, progress: 0.4 }).state, 'running');
    assert.equal(normaliseJobStatus({ status: 1, progress: 40 }).progress, 0.4);
    const done = normaliseJobStatus({ status: 0, output_signed_url: 'https://storage/x.json' });
    assert.deepEqual([done.state, done.outputUrl], ['complete', 'https://storage/x.json']);
    const failed = normaliseJobStatus({ status: 3, message: 'bad video' });
    assert.deepEqual([failed.state, failed.message], ['failed', 'bad video']);
  });

  it('reads string (workflow job) statuses and inline results', () => {
    assert.equal(normaliseJobStatus({ status: 'queued' }).state, 'queued');
    assert.equal(normaliseJobStatus({ status: 'processing' }).state, 'running');
    assert.deepEqual(normaliseJobStatus({ status: 'complete', results: [1] }).results, [1]);
    assert.equal(normaliseJobStatus({ status: 'failed', error: 'x' }).message, 'x');
  });

  it('turns columnar results into one entry per frame (either offset spelling)', () => {
    for (const [frames, times] of [
      ['frame_offsets', 'time_offsets'],
      ['frame_offset', 'time_offset'],
    ]) {
      const results = normaliseJobResults({ [frames]: [0, 6], [times]: [0, 0.2], 'my-model': [{ predictions: [1] }, null], note: 'kept out' });
      assert.deepEqual(results.frames, [
        { frameOffset: 0, timeOffset: 0, outputs: { 'my-model': { predictions: [1] } } },
        { frameOffset: 6, timeOffset: 0.2, outputs: { 'my-model': null } },
      ]);
    }
  });

  it('accepts row results', () => {
    const results = normaliseJobResults([{ frame_offset: 3, time_offset: 0.1, count: 2 }, { outputs: { count: 1 } }]);
    assert.deepEqual(results.frames, [
      { frameOffset: 3, timeOffset: 0.1, outputs: { count: 2 } },
      { frameOffset: 1, timeOffset: 0, outputs: { count: 1 } },
    ]);
    assert.equal(normaliseJobResults({ results: [{ count: 5 }] }).frames[0].outputs.count, 5);
  });

  it('rejects documents without frames', () => {
    assert.throws(() => normaliseJobResults({ hello: 1 }), /no frame_offsets/);
    assert.throws(() => normaliseJobResults('x'), /neither a list nor an object/);
  });
});
