import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import type { INodeExecutionData } from 'n8n-workflow';
import { RoboflowVideoJob } from '../../nodes/n8n/RoboflowVideoJob/RoboflowVideoJob.node.js';
import type { RoboflowApiCredential } from '../../nodes/n8n/shared/connection';
import { expectedBoxes, getScene } from '../../server/media/scenes';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { binaryItem, executeContext, scanExecutions, testNode } from '../helpers/n8n-context';

/**
 * The Video Job node (version 2) against the local server: workflow jobs through
 * Batch Processing when the workspace has it, through /videoinfer when it does not (a
 * server started with --no-batch-processing: its plan lacks it), with the API used and
 * the reason for the fall-back in the items; and a Batch Processing job submitted, then
 * looked up from the items that Submit Job and Get Job Status return.
 */

scanExecutions(RoboflowVideoJob);

interface Frame {
  frameOffset: number;
  outputs: { count: number; predictions: { predictions: Array<{ class: string; x: number; y: number; width: number; height: number }> } };
}

/** 2 s of the 15 fps two-squares scene at 5 fps: source frames 0, 3, 6, ... with exact boxes. */
function assertExactFrames(frames: Frame[]): void {
  const scene = getScene('two-squares');
  assert.equal(frames.length, 10);
  frames.forEach((frame, index) => {
    assert.equal(frame.frameOffset, index * 3);
    const got = frame.outputs.predictions.predictions.map((p) => `${p.class} ${p.x} ${p.y} ${p.width} ${p.height}`).sort();
    const expected = expectedBoxes(scene, frame.frameOffset)
      .map((b) => `${b.color} ${b.x} ${b.y} ${b.width} ${b.height}`)
      .sort();
    assert.deepEqual(got, expected, `frame ${frame.frameOffset}`);
  });
}

describe('n8n Video Job: Batch Processing, and the fall-back to /videoinfer (local server)', function () {
  this.timeout(60_000);
  let withBatch: RunningServer;
  let withoutBatch: RunningServer;
  const node = new RoboflowVideoJob();

  before(async () => {
    [withBatch, withoutBatch] = await Promise.all([startLocalServer(['--cameras', '']), startLocalServer(['--cameras', '', '--no-batch-processing'])]);
  });
  after(async () => {
    await Promise.all([withBatch.stop(), withoutBatch.stop()]);
  });
  beforeEach(async () => {
    await Promise.all([withBatch, withoutBatch].map((server) => server.json('/local/requests', { method: 'DELETE' })));
  });

  const credentialOf = (server: RunningServer): RoboflowApiCredential => ({ apiKey: API_KEY, region: 'us', plan: 'webrtc-gpu-small', serverUrl: server.url, apiUrl: server.url });
  const execute = (server: RunningServer, version: number, parameters: Record<string, unknown>, items?: INodeExecutionData[]) => {
    const context = executeContext({ type: 'roboflowVideoJob', credential: credentialOf(server), parameters, ...(items ? { items } : {}) });
    const versioned = testNode('roboflowVideoJob', version);
    return node.execute.call({ ...context, getNode: () => versioned });
  };
  const video = async (): Promise<INodeExecutionData> => binaryItem(readFileSync(await sceneVideo('two-squares')), 'clip.mp4', 'video/mp4');
  const workflowJob = { input: 'binary', binaryPropertyName: 'data', target: 'workflow', workspace: 'demo', workflowId: 'detect-colors', fps: 5, options: { pollSeconds: 1 } };

  it('Auto on a workspace with Batch Processing: the job runs there; every analysed frame, exact; the items say `generation: batch`', async () => {
    const [out] = await execute(withBatch, 2, { operation: 'process', ...workflowJob }, [await video()]);
    assert.equal(out.length, 1);
    assert.equal(out[0].json.generation, 'batch');
    assert.equal('fallback' in out[0].json, false);
    assertExactFrames(out[0].json.frames as unknown as Frame[]);
    assert.equal(await withBatch.requestCount('videoinfer_submit'), 0);
  });

  it('Auto on a workspace without it (--no-batch-processing): /videoinfer, and the items say why', async () => {
    const [out] = await execute(withoutBatch, 2, { operation: 'process', ...workflowJob, options: { pollSeconds: 1, itemPerFrame: true } }, [await video()]);
    assert.equal(out.length, 10);
    for (const item of out) {
      assert.equal(item.json.generation, 'workflow');
      assert.deepEqual(item.json.fallback, {
        from: 'batch',
        reason: "Not available on this workspace's plan (402) (Batch processing is not enabled for this workspace. Upgrade your plan or contact sales at https://roboflow.com/sales.)",
      });
    }
    assert.deepEqual(
      out.map((item) => (item.json as unknown as Frame).outputs.count),
      Array(10).fill(2),
    );
    assert.equal(await withoutBatch.requestCount('staging_upload_video'), 1, 'one look at Batch Processing, before any upload');
    assert.equal(await withoutBatch.requestCount('videoinfer_submit'), 1);
  });

  it('a workflow saved with version 1 keeps /videoinfer on a workspace that has Batch Processing', async () => {
    const [out] = await execute(withBatch, 1, { operation: 'process', ...workflowJob }, [await video()]);
    assert.equal(out[0].json.generation, 'workflow');
    assert.equal(await withBatch.requestCount('staging_upload_video'), 0);
    assert.equal((out[0].json.frames as unknown[]).length, 10);
  });

  it('Submit Job through Batch Processing, then Get Job Status and Get Job Results from the items (a Wait node between)', async () => {
    const [submitted] = await execute(withBatch, 2, { operation: 'submit', ...workflowJob, api: 'batch' }, [await video()]);
    const job = submitted[0].json;
    assert.equal(job.generation, 'batch');
    assert.match(String(job.jobId), /^job-[a-z0-9]{12}$/);
    assert.equal(job.workspace, 'demo');
    assert.equal(job.batchId, `${String(job.jobId)}-input`);
    const status = await eventually(
      async () => {
        const [[item]] = await execute(withBatch, 2, { operation: 'getStatus', options: {} }, [submitted[0]]);
        return item.json.state === 'complete' ? item : undefined;
      },
      20_000,
      'the job complete',
    );
    assert.equal(status.json.jobId, job.jobId);
    const [results] = await execute(withBatch, 2, { operation: 'getResults', options: {} }, [status]);
    assert.equal(results[0].json.generation, 'batch');
    assertExactFrames(results[0].json.frames as unknown as Frame[]);
    const [byId] = await execute(withBatch, 2, { operation: 'getResults', jobSource: 'id', jobId: job.jobId, generation: 'batch', workspace: 'demo', options: {} });
    assert.equal((byId[0].json.frames as unknown[]).length, 10);
  });
});
