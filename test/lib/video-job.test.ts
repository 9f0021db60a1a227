import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RoboflowError, VideoJobClient, jobTargetFor, normaliseJobResults, normaliseJobStatus, resolveConnection, type JobGeneration } from '../../lib';
import { secret } from '../helpers/secrets';

const KEY = secret('stub-key-video-job-0123');

/** A stand-in API that records every request and accepts a /videoinfer job. */
async function stubApi(): Promise<{ url: string; seen: Array<{ method: string; path: string; body: string }>; close(): Promise<void> }> {
  const seen: Array<{ method: string; path: string; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      seen.push({ method: req.method ?? '', path, body });
      if (req.method === 'POST' && path === '/videoinfer/') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jobId: 'job-1' }));
      else res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `not expected in this test: ${req.method ?? ''} ${path}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('video job: a dry run never goes through Batch Processing (it cannot skip sinks)', () => {
  let stub: Awaited<ReturnType<typeof stubApi>>;
  let client: VideoJobClient;
  beforeEach(async () => {
    stub = await stubApi();
    client = new VideoJobClient({ connection: resolveConnection({ apiKey: KEY, serverUrl: stub.url, apiUrl: stub.url }) });
  });
  afterEach(async () => {
    await client.close();
    await stub.close();
  });
  const input = { kind: 'url', url: 'https://videos.example/clip.mp4' } as const;

  it('auto: /videoinfer with disable_sinks, without asking Batch Processing; the handle says why', async () => {
    const generations: Array<[JobGeneration, string | undefined]> = [];
    const handle = await client.start(input, jobTargetFor('auto', { workspace: 'ws', workflow: 'wf', disableSinks: true }), {
      fps: 5,
      onGeneration: (generation, fallback) => generations.push([generation, fallback?.reason]),
    });
    assert.equal(handle.generation, 'workflow');
    assert.deepEqual(handle.fallback, { from: 'batch', reason: "a dry run (Batch Processing cannot skip the workflow's sinks)" });
    assert.deepEqual(generations, [['workflow', "a dry run (Batch Processing cannot skip the workflow's sinks)"]]);
    assert.deepEqual(
      stub.seen.map((request) => `${request.method} ${request.path}`),
      ['POST /videoinfer/'],
    );
    assert.deepEqual(JSON.parse(stub.seen[0].body), { api_key: KEY, workspace: 'ws', workflow: 'wf', video_url: input.url, fps: 5, disable_sinks: true });
  });

  it('batch: refused with one clear error before anything is sent', async () => {
    await assert.rejects(
      client.start(input, jobTargetFor('batch', { workspace: 'ws', workflow: 'wf', disableSinks: true }), { fps: 5 }),
      (error: RoboflowError) =>
        error instanceof RoboflowError &&
        error.code === 'invalid-input' &&
        error.message === "Batch Processing cannot skip the workflow's sinks: turn the dry run off, or run the job through /videoinfer",
    );
    assert.deepEqual(stub.seen, []);
  });
});

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
