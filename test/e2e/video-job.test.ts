import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RoboflowError, VideoJobClient, type JobStatus, type VideoJobResults } from '../../lib';
import { expectedBoxes, getScene } from '../../server/media/scenes';
import { startLocalServer, type RunningServer } from '../helpers/local-server';
import { MEDIA_DIR, sceneVideo } from '../helpers/media';

interface Detections {
  predictions: Array<{ class: string; x: number; y: number; width: number; height: number }>;
}

function assertExactDetections(results: VideoJobResults, column: string, fps: number): void {
  const scene = getScene('two-squares');
  // 2 s at 5 fps: frames 0, 3, 6, ... of the 15 fps source.
  assert.equal(results.frames.length, Math.round((scene.frames / scene.fps) * fps));
  results.frames.forEach((frame, index) => {
    assert.equal(frame.frameOffset, index * (scene.fps / fps));
    assert.equal(frame.timeOffset, Math.round((index / fps) * 1000) / 1000);
    const detections = frame.outputs[column] as Detections;
    const got = detections.predictions.map((p) => [p.class, p.x, p.y, p.width, p.height]).sort();
    const expected = expectedBoxes(scene, frame.frameOffset)
      .map((b) => [b.color, b.x, b.y, b.width, b.height])
      .sort();
    assert.deepEqual(got, expected, `frame ${frame.frameOffset}`);
  });
}

describe('video jobs against the local server', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let client: VideoJobClient;

  before(async () => {
    server = await startLocalServer(['--cameras', '']);
    client = new VideoJobClient({ connection: server.connection() });
  });
  after(async () => {
    await client.close();
    await server.stop();
  });
  beforeEach(() => server.resetFaults());

  it('model job: streams a file up, polls, and returns every sampled frame with exact detections', async () => {
    const progress: number[] = [];
    const statuses: JobStatus[] = [];
    const { handle, results } = await client.run(
      { kind: 'file', path: await sceneVideo('two-squares') },
      { generation: 'model', models: [{ modelId: 'detect-colors', modelVersion: 1 }] },
      { fps: 5, pollIntervalMs: 100, onUploadProgress: (p) => progress.push(p.percent), onStatus: (s) => statuses.push(s) },
    );
    assert.equal(handle.generation, 'model');
    assert.equal(progress[progress.length - 1], 100);
    assert.equal(statuses[statuses.length - 1].state, 'complete');
    assertExactDetections(results, 'detect-colors', 5);
  });

  it('workflow job from a Buffer, with results behind output_url or inline', async () => {
    const data = readFileSync(await sceneVideo('two-squares'));
    for (const inline of [false, true]) {
      await server.faults({ jobResultsInline: inline });
      const { handle, results } = await client.run(
        { kind: 'buffer', data, fileName: 'clip.mp4' },
        { generation: 'workflow', workspace: 'my-ws', workflow: 'detect-colors' },
        { fps: 5, pollIntervalMs: 100 },
      );
      assert.equal(handle.workflow, 'detect-colors');
      assertExactDetections(results, 'predictions', 5);
      assert.deepEqual(results.frames[0].outputs.count, 2);
      assert.equal('output_image' in results.frames[0].outputs, false, 'images are not part of job results');
    }
  });

  it('accepts a video URL instead of an upload', async () => {
    const fileUrl = await client.upload({ kind: 'file', path: await sceneVideo('two-squares') }, 'workflow');
    const { results } = await client.run({ kind: 'url', url: fileUrl }, { generation: 'workflow', workspace: 'w', workflow: 'motion' }, { fps: 5, pollIntervalMs: 100 });
    assert.equal(results.frames.length, 10);
    assert.equal(results.frames[0].outputs.motion, 0);
    assert.ok((results.frames[1].outputs.motion as number) > 0);
  });

  it('resumes from a saved handle (as after a restart) and fetches the results once done', async () => {
    await server.faults({ jobDelayMs: 1_500 });
    const url = await client.upload({ kind: 'file', path: await sceneVideo('two-squares') }, 'model');
    const handle = await client.submit(url, { generation: 'model', models: [{ modelId: 'detect-colors' }] }, 5);
    const saved = JSON.parse(JSON.stringify(handle)) as typeof handle;
    assert.doesNotMatch(JSON.stringify(saved), /api_key|test-key/, 'the handle holds no secret');
    const fresh = new VideoJobClient({ connection: server.connection() });
    try {
      const running = await fresh.status(saved);
      assert.notEqual(running.state, 'complete');
      const done = await fresh.wait(saved, { pollIntervalMs: 100 });
      assertExactDetections(await fresh.results(done), 'detect-colors', 5);
    } finally {
      await fresh.close();
    }
  });

  it('slows down when the service rate-limits polling (429 + Retry-After)', async () => {
    await server.faults({ jobPollIntervalMs: 1_000, jobDelayMs: 1_500 });
    const url = await client.upload({ kind: 'file', path: await sceneVideo('two-squares') }, 'model');
    const handle = await client.submit(url, { generation: 'model', models: [{ modelId: 'detect-colors' }] }, 5);
    const started = Date.now();
    const done = await client.wait(handle, { pollIntervalMs: 50 });
    assert.equal(done.state, 'complete');
    assert.ok(Date.now() - started >= 1_400);
  });

  it('reports a failed job with the reason', async () => {
    const url = await client.upload({ kind: 'file', path: await sceneVideo('two-squares') }, 'model');
    const handle = await client.submit(url, { generation: 'model', models: [{ modelId: 'detect-colors' }] }, 60);
    await assert.rejects(
      client.wait(handle, { pollIntervalMs: 100 }),
      (error: RoboflowError) => error.code === 'job-failed' && error.message.includes("infer_fps 60 is higher than the video's 15 fps"),
    );
  });

  it('user errors: missing file, empty buffer, bad fps, unknown model, unknown job', async () => {
    await assert.rejects(client.upload({ kind: 'file', path: join(MEDIA_DIR, 'none.mp4') }, 'model'), /Video file not found/);
    await assert.rejects(client.upload({ kind: 'buffer', data: Buffer.alloc(0) }, 'model'), /video buffer is empty/);
    await assert.rejects(client.submit('http://x/v.mp4', { generation: 'model', models: [{ modelId: 'detect-colors' }] }, 0), /fps must be between 1 and 120/);
    await assert.rejects(client.submit('http://x/v.mp4', { generation: 'model', models: [{ modelId: 'yolov8' }] }, 5), (error: RoboflowError) => error.code === 'not-found');
    await assert.rejects(client.status({ generation: 'model', jobId: 'nope', apiUrl: server.url, submittedAt: '' }), (error: RoboflowError) => error.code === 'not-found');
  });

  it('retries a failed upload request and a failed status poll', async () => {
    await server.faults({ failNext: { upload: { status: 503, count: 1 }, videoinfer_status: { status: 502, count: 2 } } });
    const { results } = await client.run(
      { kind: 'file', path: await sceneVideo('two-squares') },
      { generation: 'workflow', workspace: 'w', workflow: 'detect-colors' },
      { fps: 5, pollIntervalMs: 100 },
    );
    assert.equal(results.frames.length, 10);
  });
});
