import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchProcessingClient, HttpClient, RoboflowError, VideoJobClient, readJobHandle, silentLogger, type JobGeneration, type JobHandle, type JobStatus, type VideoJobResults } from '../../lib';
import { expectedBoxes, getScene } from '../../server/media/scenes';
import { API_KEY, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('not-the-key-987');

interface Detections {
  predictions: Array<{ class: string; x: number; y: number; width: number; height: number }>;
}

/** 2 s of the 15 fps two-squares scene at 5 fps: source frames 0, 3, 6, ... with exact boxes. */
function assertExactFrames(results: VideoJobResults): void {
  const scene = getScene('two-squares');
  assert.equal(results.frames.length, 10);
  results.frames.forEach((frame, index) => {
    assert.equal(frame.frameOffset, index * 3);
    assert.equal(frame.timeOffset, Math.round((index / 5) * 1000) / 1000);
    const got = (frame.outputs.predictions as Detections).predictions.map((p) => [p.class, p.x, p.y, p.width, p.height]).sort();
    const expected = expectedBoxes(scene, frame.frameOffset)
      .map((b) => [b.color, b.x, b.y, b.width, b.height])
      .sort();
    assert.deepEqual(got, expected, `frame ${frame.frameOffset}`);
    assert.equal(frame.outputs.count, 2);
    assert.equal('output_image' in frame.outputs, false, 'images are not part of job results');
  });
}

describe('workflow video jobs through the Batch Processing API (local server)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let client: VideoJobClient;
  const target = { workspace: 'my-ws', workflow: 'detect-colors' };

  before(async () => {
    server = await startLocalServer(['--cameras', '']);
    client = new VideoJobClient({ connection: server.connection() });
  });
  after(async () => {
    await client.close();
    assert.equal(await server.stop(), 0);
    assert.doesNotMatch(server.output.join(''), new RegExp(API_KEY), 'the server never prints the API key');
  });
  beforeEach(async () => {
    await server.resetFaults();
    await server.json('/local/requests', { method: 'DELETE' });
  });

  for (const format of ['jsonl', 'csv'] as const) {
    it(`batch: stages the file, runs a simple-video-processing-v1 job, and reads every analysed frame from the ${format.toUpperCase()} results`, async () => {
      const progress: number[] = [];
      const statuses: JobStatus[] = [];
      const generations: JobGeneration[] = [];
      const { handle, results } = await client.run(
        { kind: 'file', path: await sceneVideo('two-squares') },
        { generation: 'batch', ...target, aggregationFormat: format },
        { fps: 5, pollIntervalMs: 100, onUploadProgress: (p) => progress.push(p.percent), onStatus: (s) => statuses.push(s), onGeneration: (g) => generations.push(g) },
      );
      assert.deepEqual(generations, ['batch']);
      assert.equal(handle.generation, 'batch');
      assert.match(handle.jobId, /^job-[a-z0-9]{12}$/);
      assert.equal(handle.batchId, `${handle.jobId}-input`);
      assert.equal(handle.workspace, 'my-ws');
      assert.equal(progress[progress.length - 1], 100);
      assert.equal(statuses[statuses.length - 1].state, 'complete');
      assertExactFrames(results);
      assert.deepEqual(results.raw, { files: [{ batchId: `${handle.jobId}-processing`, fileName: `two-squares-1-h264.${format}`, format }] }, "the processing stage's results, not the export archive");
      assert.equal(await server.requestCount('videoinfer_submit'), 0);
    });
  }

  it("the signed upload carries the extension headers the staging answer listed, and the job definition is Roboflow's", async () => {
    const { handle } = await client.run(
      { kind: 'buffer', data: readFileSync(await sceneVideo('two-squares')), fileName: 'clip.mp4' },
      { generation: 'batch', ...target, parameters: { min_area: 100 }, notificationsUrl: 'http://127.0.0.1:1/unused' },
      { fps: 5, pollIntervalMs: 100 },
    );
    const job = await server.json<{ job: { jobDefinition: Record<string, unknown>; plannedStages: string[]; isTerminal: boolean; error: boolean } }>(
      `/batch-processing/v1/external/my-ws/jobs/${handle.jobId}?api_key=${API_KEY}`,
    );
    assert.deepEqual(job.job.jobDefinition, {
      type: 'simple-video-processing-v1',
      jobInput: { type: 'staging-batch-input-v1', batchId: handle.batchId },
      computeConfiguration: { type: 'compute-configuration-v2' },
      processingSpecification: {
        type: 'workflows-processing-specification-v1',
        workspace: 'my-ws',
        workflowId: 'detect-colors',
        workflowParameters: { min_area: 100 },
        aggregationFormat: 'jsonl',
        maxVideoFPS: 5,
      },
      notificationsURL: 'http://127.0.0.1:1/unused',
    });
    assert.deepEqual([job.job.plannedStages, job.job.isTerminal, job.job.error], [['processing', 'export'], true, false]);
    const stages = await server.json<{ stages: Array<{ processingStageName: string; outputBatches: string[] }> }>(`/batch-processing/v1/external/my-ws/jobs/${handle.jobId}/stages?api_key=${API_KEY}`);
    assert.deepEqual(
      stages.stages.map((stage) => [stage.processingStageName, stage.outputBatches]),
      [
        ['processing', [`${handle.jobId}-processing`]],
        ['export', [`${handle.jobId}-export`]],
      ],
    );
    // The export stage's archive is a real tar holding the results file.
    const parts = await server.json<{ filesMetadata: Array<{ downloadURL: string; fileName: string }> }>(
      `/data-staging/v1/external/my-ws/batches/${handle.jobId}-export/list?api_key=${API_KEY}&partName=archives`,
    );
    const tar = Buffer.from(await (await fetch(parts.filesMetadata[0].downloadURL)).arrayBuffer());
    assert.equal(tar.subarray(0, 10).toString(), 'clip.jsonl');
    assert.equal(tar.subarray(257, 262).toString(), 'ustar');
  });

  it('POSTs the job notification to notificationsURL when the job ends', async () => {
    const received: Array<{ body: Record<string, unknown>; authorization?: string }> = [];
    const receiver: Server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        received.push({ body: JSON.parse(text) as Record<string, unknown>, authorization: req.headers.authorization });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/roboflow`;
      const { handle } = await client.run({ kind: 'file', path: await sceneVideo('two-squares') }, { generation: 'batch', ...target, notificationsUrl: url }, { fps: 5, pollIntervalMs: 100 });
      const deadline = Date.now() + 5_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(received.length, 1);
      assert.equal(received[0].body.type, 'roboflow-batch-job-notification-v1');
      assert.equal(received[0].body.job_id, handle.jobId);
      assert.equal(received[0].body.job_state, 'success');
      assert.equal(received[0].authorization, 'Bearer rf_my-ws');
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('auto uses Batch Processing when the workspace has it', async () => {
    const { handle, results } = await client.run({ kind: 'file', path: await sceneVideo('two-squares') }, { generation: 'auto', ...target }, { fps: 5, pollIntervalMs: 100 });
    assert.equal(handle.generation, 'batch');
    assert.equal(handle.fallback, undefined);
    assertExactFrames(results);
  });

  it('auto falls back to /videoinfer when the workspace lacks Batch Processing (402), before any upload, and says so in the handle', async () => {
    await server.faults({ batchProcessing: false });
    const generations: Array<[JobGeneration, string | undefined]> = [];
    const { handle, results } = await client.run(
      { kind: 'file', path: await sceneVideo('two-squares') },
      { generation: 'auto', ...target },
      { fps: 5, pollIntervalMs: 100, onGeneration: (generation, fallback) => generations.push([generation, fallback?.reason]) },
    );
    assert.equal(handle.generation, 'workflow');
    assert.deepEqual(handle.fallback, {
      from: 'batch',
      reason: "Not available on this workspace's plan (402) (Batch processing is not enabled for this workspace. Upgrade your plan or contact sales at https://roboflow.com/sales.)",
    });
    assert.deepEqual(generations, [
      ['batch', undefined],
      ['workflow', handle.fallback.reason],
    ]);
    assertExactFrames(results);
    assert.equal(await server.requestCount('staging_upload_video'), 1, 'one look at Batch Processing');
    assert.equal(await server.requestCount('staging_upload'), 0, 'no video byte went to staging');
    assert.equal(await server.requestCount('videoinfer_submit'), 1);
  });

  it('batch on a workspace without it: one clear error, no fall-back', async () => {
    await server.faults({ batchProcessing: false });
    await assert.rejects(
      client.run({ kind: 'file', path: await sceneVideo('two-squares') }, { generation: 'batch', ...target }, { fps: 5, pollIntervalMs: 100 }),
      (error: RoboflowError) => error.code === 'forbidden' && error.message.startsWith("Not available on this workspace's plan (402) (Batch processing is not enabled for this workspace"),
    );
    assert.equal(await server.requestCount('videoinfer_submit'), 0);
  });

  it('auto does not hide other errors behind the other generation: a bad key fails at once', async () => {
    const wrong = new VideoJobClient({ connection: server.connection({ apiKey: WRONG_KEY }) });
    try {
      await assert.rejects(
        wrong.run({ kind: 'file', path: await sceneVideo('two-squares') }, { generation: 'auto', ...target }, { fps: 5, pollIntervalMs: 100 }),
        (error: RoboflowError) => error.code === 'invalid-api-key',
      );
      assert.equal(await server.requestCount('videoinfer_submit'), 0);
    } finally {
      await wrong.close();
    }
  });

  it('a job handle survives a restart: persisted as JSON, read back, followed by a new client to the same results', async () => {
    await server.faults({ jobDelayMs: 1_500 });
    const submitted = await client.start({ kind: 'file', path: await sceneVideo('two-squares') }, { generation: 'batch', ...target, aggregationFormat: 'csv' }, { fps: 5 });
    const persisted = JSON.stringify(submitted);
    assert.doesNotMatch(persisted, new RegExp(API_KEY), 'the handle holds no secret');
    const handle: JobHandle = readJobHandle(JSON.parse(persisted));
    const fresh = new VideoJobClient({ connection: server.connection() });
    try {
      assert.notEqual((await fresh.status(handle)).state, 'complete');
      const done = await fresh.wait(handle, { pollIntervalMs: 100 });
      assertExactFrames(await fresh.results(done));
    } finally {
      await fresh.close();
    }
  });

  it('a video URL is staged too (Batch Processing reads staged data only)', async () => {
    const url = await client.upload({ kind: 'file', path: await sceneVideo('two-squares') }, 'workflow');
    const { handle, results } = await client.run({ kind: 'url', url }, { generation: 'batch', ...target }, { fps: 5, pollIntervalMs: 100 });
    assert.equal(handle.generation, 'batch');
    assertExactFrames(results);
  });

  it('user errors: an unknown workflow, a pinned version, a failed job with its reason', async () => {
    await assert.rejects(
      client.run({ kind: 'file', path: await sceneVideo('two-squares') }, { generation: 'batch', workspace: 'my-ws', workflow: 'no-such-workflow' }, { fps: 5, pollIntervalMs: 100 }),
      (error: RoboflowError) => error.code === 'not-found' && error.message.includes('Workflow no-such-workflow not found'),
    );
    await assert.rejects(
      client.start({ kind: 'url', url: 'http://x/v.mp4' }, { generation: 'batch', ...target, versionId: 'v3' }, { fps: 5 }),
      /runs the workflow's current version: clear the workflow version/,
    );
    const notVideo = Buffer.from('this is not a video at all, only text');
    await assert.rejects(
      client.run({ kind: 'buffer', data: notVideo, fileName: 'notes.mp4' }, { generation: 'batch', ...target }, { fps: 5, pollIntervalMs: 100 }),
      (error: RoboflowError) => error.code === 'job-failed' && error.message.includes('failed: Job failed: '),
    );
  });

  it('results of several videos across listing pages are all read, in order', async () => {
    await server.faults({ stagingPageSize: 1 });
    const connection = server.connection();
    const http = new HttpClient({ apiKey: connection.apiKey });
    try {
      const batch = new BatchProcessingClient(connection, http, silentLogger);
      const path = await sceneVideo('two-squares');
      const first = await batch.stage({ kind: 'file', path }, 'my-ws', { jobId: 'job-two-videos', fileName: 'a.mp4' });
      await batch.stage({ kind: 'file', path }, 'my-ws', { jobId: 'job-two-videos', fileName: 'b.mp4' });
      await batch.submit(first, { ...target, aggregationFormat: 'csv' }, 5);
      const handle: JobHandle = { generation: 'batch', jobId: 'job-two-videos', apiUrl: connection.apiUrl, submittedAt: '', workspace: 'my-ws', fps: 5 };
      const results = await client.results(await client.wait(handle, { pollIntervalMs: 100 }));
      assert.deepEqual(
        (results.raw as { files: Array<{ fileName: string }> }).files.map((file) => file.fileName),
        ['a.csv', 'b.csv'],
      );
      assert.equal(results.frames.length, 20);
      assertExactFrames({ frames: results.frames.slice(10), raw: null });
      assert.ok((await server.requestCount('staging_list')) >= 2, 'followed nextPageToken');
    } finally {
      await http.close();
    }
  });

  it('transient failures of staging and polling are retried', async () => {
    await server.faults({ failNext: { staging_upload_video: { status: 503, count: 1 }, staging_upload: { status: 503, count: 1 }, batch_job_status: { status: 502, count: 2 } } });
    const { results } = await client.run({ kind: 'file', path: await sceneVideo('two-squares') }, { generation: 'batch', ...target }, { fps: 5, pollIntervalMs: 100 });
    assertExactFrames(results);
  });
});
