import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { NodeMessage } from 'node-red';
import { migrate } from '../../nodes/node-red/common/migrate';
import { migrations } from '../../nodes/node-red/roboflow-video-job/migrations';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { ALL_NODES, collect, configNode, helper, onTab, recordLogs, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';

interface Frame {
  frameOffset: number;
  timeOffset: number;
  outputs: { count?: number; predictions?: unknown };
}

describe('Node-RED: roboflow-video-job', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let userDir: string;
  const credentials = { cfg: { apiKey: API_KEY } };

  before(async () => {
    userDir = useUserDir();
    server = await startLocalServer(['--cameras', '']);
  });
  after(() => server.stop());
  beforeEach(() => server.resetFaults());
  afterEach(() => helper.unload());

  const flow = (props: Record<string, unknown> = {}): FlowNode[] =>
    onTab([
      configNode(server.url),
      {
        id: 'job',
        type: 'roboflow-video-job',
        name: '',
        roboflow: 'cfg',
        target: 'workflow',
        workspace: 'demo',
        workspaceType: 'str',
        workflow: 'detect-colors',
        workflowType: 'str',
        model: '',
        fps: 5,
        pollInterval: 0.2,
        version: 1,
        wires: [['out']],
        ...props,
      },
      { id: 'out', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);

  it('a file path in, every analysed frame out with msg.jobId; progress on the status', async () => {
    await helper.load(ALL_NODES, flow(), credentials);
    const node = helper.getNode('job');
    const statuses = recordStatuses(node);
    const out = collect(helper.getNode('out'));
    node.receive({ payload: await sceneVideo('two-squares'), topic: 'clip-1' });
    await eventually(() => out.length === 1, 20_000, 'the results message');
    const msg = out[0];
    const frames = msg.payload as Frame[];
    assert.equal(frames.length, 10);
    assert.deepEqual(
      frames.map((f) => f.frameOffset),
      [0, 3, 6, 9, 12, 15, 18, 21, 24, 27],
    );
    assert.ok(frames.every((f) => f.outputs.count === 2));
    assert.match(String(msg.jobId), /^[0-9a-f-]{36}$/);
    assert.equal(msg.topic, 'clip-1', 'other input properties pass through');
    const texts = statuses.map((s) => s.text);
    // A flow saved before the API choice existed keeps /videoinfer, and says so.
    assert.ok(texts.includes('uploading 100% (/videoinfer)'), texts.join(' | '));
    assert.equal(texts[texts.length - 1], 'done (10 frames)');
    assert.equal(msg.generation, 'workflow');
  });

  it('a new node runs workflow jobs through Batch Processing, and falls back to /videoinfer where the workspace has none', async () => {
    await helper.load(ALL_NODES, flow({ jobApi: 'auto', version: 3 }), credentials);
    const node = helper.getNode('job');
    const statuses = recordStatuses(node);
    const out = collect(helper.getNode('out'));
    node.receive({ payload: await sceneVideo('two-squares') });
    await eventually(() => out.length === 1, 30_000, 'Batch Processing results');
    assert.equal(out[0].generation, 'batch');
    assert.equal((out[0].payload as Frame[]).length, 10);
    assert.ok(
      statuses.some((s) => s.text === 'uploading 100% (Batch Processing)'),
      statuses.map((s) => s.text).join(' | '),
    );

    await server.faults({ batchProcessing: false });
    const logged = recordLogs(node, 'log');
    node.receive({ payload: await sceneVideo('two-squares') });
    await eventually(() => out.length === 2, 30_000, 'fallback results');
    assert.equal(out[1].generation, 'workflow');
    assert.equal((out[1].payload as Frame[]).length, 10);
    assert.ok(
      logged.some((line) => /Batch Processing not used \(.*not enabled.*\): the job runs through \/videoinfer/.test(line)),
      logged.join(' | '),
    );
  });

  it('"Batch Processing" only: a workspace without it gets a clear error, not a silent fallback', async () => {
    await server.faults({ batchProcessing: false });
    await helper.load(ALL_NODES, flow({ jobApi: 'batch', version: 3 }), credentials);
    const caught = collect(helper.getNode('caught'));
    helper.getNode('job').receive({ payload: await sceneVideo('two-squares') });
    await eventually(() => caught.length === 1, 20_000, 'the error');
    assert.match((caught[0].error as { message: string }).message, /Batch Processing/i);
  });

  it('a dry run on auto runs through /videoinfer with disable_sinks (Batch Processing would fire the sinks), and says why', async () => {
    await helper.load(ALL_NODES, flow({ jobApi: 'auto', disableSinks: true, version: 3 }), credentials);
    const node = helper.getNode('job');
    const logged = recordLogs(node, 'log');
    const out = collect(helper.getNode('out'));
    const staged = await server.requestCount('staging_upload_video');
    node.receive({ payload: await sceneVideo('two-squares') });
    await eventually(() => out.length === 1, 30_000, 'the dry run results');
    assert.equal(out[0].generation, 'workflow');
    assert.equal((out[0].payload as Frame[]).length, 10);
    const job = out[0].job as { generation: string; fallback?: { from: string; reason: string } };
    assert.equal(job.fallback?.from, 'batch');
    assert.match(String(job.fallback?.reason), /dry run/i);
    assert.ok(
      logged.some((line) => /Batch Processing not used \(a dry run.*\): the job runs through \/videoinfer/.test(line)),
      logged.join(' | '),
    );
    // What the server received: the /videoinfer workflow job with disable_sinks: true (its log says so), and nothing staged for Batch Processing.
    assert.ok(
      server.output.some((line) => line.includes(`video job ${String(out[0].jobId)} queued (workflow: detect-colors at 5 fps, sinks disabled)`)),
      server.output.filter((line) => line.includes('video job')).join(' | '),
    );
    assert.equal(await server.requestCount('staging_upload_video'), staged, 'no video staged for Batch Processing');
  });

  it('a dry run on "Batch Processing" only: one clear error, red status, no job submitted', async () => {
    await helper.load(ALL_NODES, flow({ jobApi: 'batch', disableSinks: true, version: 3 }), credentials);
    const node = helper.getNode('job');
    const statuses = recordStatuses(node);
    const caught = collect(helper.getNode('caught'));
    const out = collect(helper.getNode('out'));
    const before = await Promise.all(['staging_upload_video', 'batch_job_start', 'videoinfer_submit', 'video_upload_signed_url'].map((route) => server.requestCount(route)));
    node.receive({ payload: await sceneVideo('two-squares') });
    await eventually(() => caught.length === 1, 20_000, 'the error');
    assert.match((caught[0].error as { message: string }).message, /Batch Processing cannot skip the workflow's sinks: turn the dry run off, or run the job through \/videoinfer/);
    const last = statuses[statuses.length - 1];
    assert.deepEqual([last.fill, last.text], ['red', "Batch Processing cannot skip the workflow's sinks"]);
    assert.deepEqual(
      await Promise.all(['staging_upload_video', 'batch_job_start', 'videoinfer_submit', 'video_upload_signed_url'].map((route) => server.requestCount(route))),
      before,
      'nothing uploaded or submitted',
    );
    assert.equal(out.length, 0);
    assert.equal(caught.length, 1, 'one error');
  });

  it('a notifications URL: Batch Processing POSTs the job notification there; a flow saved before it has none', async () => {
    assert.equal(migrate<{ notificationsUrl: string }>({ type: 'roboflow-video-job', version: 3, jobApi: 'auto' }, migrations).notificationsUrl, '');
    const received: Array<Record<string, unknown>> = [];
    const receiver: Server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        received.push(JSON.parse(text) as Record<string, unknown>);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/roboflow`;
      await helper.load(ALL_NODES, flow({ jobApi: 'batch', notificationsUrl: ` ${url} `, version: 4 }), credentials);
      const out = collect(helper.getNode('out'));
      helper.getNode('job').receive({ payload: await sceneVideo('two-squares') });
      await eventually(() => out.length === 1, 30_000, 'Batch Processing results');
      assert.equal(out[0].generation, 'batch');
      await eventually(() => received.length === 1, 10_000, 'the job notification');
      assert.equal(received[0].type, 'roboflow-batch-job-notification-v1');
      assert.equal(received[0].job_id, out[0].jobId);
      assert.equal(received[0].job_state, 'success');
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('a notifications URL that is not http(s): a clear error, nothing submitted', async () => {
    await helper.load(ALL_NODES, flow({ jobApi: 'batch', notificationsUrl: 'ftp://hooks.example/x', version: 4 }), credentials);
    const caught = collect(helper.getNode('caught'));
    const staged = await server.requestCount('staging_upload_video');
    helper.getNode('job').receive({ payload: await sceneVideo('two-squares') });
    await eventually(() => caught.length === 1, 20_000, 'the error');
    assert.match((caught[0].error as { message: string }).message, /notifications URL must start with http:\/\/ or https:\/\//);
    assert.equal(await server.requestCount('staging_upload_video'), staged);
  });

  it('a Buffer or a URL in; a trained model as the target', async () => {
    await helper.load(ALL_NODES, flow({ target: 'model', model: 'detect-colors/1' }), credentials);
    const node = helper.getNode('job');
    const out = collect(helper.getNode('out'));
    node.receive({ payload: readFileSync(await sceneVideo('two-squares')), filename: 'clip.mp4' });
    await eventually(() => out.length === 1, 20_000, 'results for a Buffer');
    const first = (out[0].payload as Frame[])[0];
    assert.ok('detect-colors' in first.outputs, 'model results are keyed by model id');
    await helper.unload();
    await helper.load(ALL_NODES, flow(), credentials);
    const upload = await fetch(`${server.url}/video_upload_signed_url/?api_key=${API_KEY}&file_name=clip.mp4`, { method: 'POST' });
    const { signedUrl, fileUrl } = (await upload.json()) as { signedUrl: string; fileUrl: string };
    await fetch(signedUrl, { method: 'PUT', body: readFileSync(await sceneVideo('two-squares')) });
    const out2 = collect(helper.getNode('out'));
    helper.getNode('job').receive({ url: fileUrl });
    await eventually(() => out2.length === 1, 20_000, 'results for a URL');
    assert.equal((out2[0].payload as Frame[]).length, 10);
  });

  it('survives a restart: the pending job is kept on disk, polling resumes, results arrive once', async () => {
    await server.faults({ jobDelayMs: 2_500 });
    await helper.load(ALL_NODES, flow(), credentials);
    helper.getNode('job').receive({ payload: await sceneVideo('two-squares'), topic: 'before-restart' });
    const store = join(userDir, 'roboflow', 'video-jobs', 'job', 'jobs.json');
    await eventually(() => existsSync(store), 10_000, 'the job kept on disk');
    const kept = JSON.parse(readFileSync(store, 'utf8')) as Array<{ handle: { jobId: string }; msg: NodeMessage }>;
    assert.equal(kept.length, 1);
    assert.equal(kept[0].msg.topic, 'before-restart');
    assert.doesNotMatch(readFileSync(store, 'utf8'), new RegExp(API_KEY), 'no secret on disk');
    // "Restart": stop the flow (not a delete) and start it again.
    await helper.unload();
    await helper.load(ALL_NODES, flow(), credentials);
    const out = collect(helper.getNode('out'));
    await eventually(() => out.length === 1, 20_000, 'results after the restart');
    assert.equal(out[0].jobId, kept[0].handle.jobId);
    assert.equal(out[0].topic, 'before-restart');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(out.length, 1, 'delivered once');
    assert.equal(existsSync(store), false, 'nothing left to resume');
    // And a second restart delivers nothing again.
    await helper.unload();
    await helper.load(ALL_NODES, flow(), credentials);
    const again = collect(helper.getNode('out'));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(again.length, 0);
  });

  it('deleting the node abandons its pending job', async () => {
    await server.faults({ jobDelayMs: 3_000 });
    await helper.load(ALL_NODES, flow(), credentials);
    helper.getNode('job').receive({ payload: await sceneVideo('two-squares') });
    const dir = join(userDir, 'roboflow', 'video-jobs', 'job');
    await eventually(() => existsSync(join(dir, 'jobs.json')), 10_000, 'job kept');
    await helper.setFlows(onTab([configNode(server.url)]), 'full', credentials);
    await eventually(() => !existsSync(join(dir, 'jobs.json')), 5_000, 'job store removed');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.json')),
      [],
    );
  });

  // Bad messages: see test/reliability/bad-input.test.ts.
  it('a failed job is reported with the reason', async () => {
    await helper.load(ALL_NODES, flow({ fps: 60 }), credentials);
    const caught = collect(helper.getNode('caught'));
    helper.getNode('job').receive({ payload: await sceneVideo('two-squares') });
    await eventually(() => caught.length === 1, 20_000, 'the error');
    assert.match((caught[0].error as { message: string }).message, /infer_fps 60 is higher than the video's 15 fps/);
  });
});
