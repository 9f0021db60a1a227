import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import { NodeHelpers, NodeOperationError, type INodeExecutionData } from 'n8n-workflow';
import { RoboflowVideoJob } from '../../nodes/n8n/RoboflowVideoJob/RoboflowVideoJob.node.js';
import { V1_DEFAULTS, V2_DEFAULTS } from '../../nodes/n8n/RoboflowVideoJob/job-settings';
import { executeContext, testNode } from '../helpers/n8n-context';
import { secret } from '../helpers/secrets';

/**
 * What the Video Job node sends, read from the requests themselves (a stub in place of
 * Roboflow's API): the workflow version and dry-run switches, which API a workflow job
 * goes through (version 2: Auto; saved version 1 nodes: /videoinfer), and jobs read back
 * from input items (checked, and only ever looked up at the credential's API URL).
 */

interface Request {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
}

/** A Roboflow API stand-in: /videoinfer accepts jobs and reports them complete; Batch Processing answers as a workspace without it (402) or not at all. */
function stubApi(): { start(): Promise<string>; stop(): Promise<void>; requests: Request[] } {
  const requests: Request[] = [];
  let server: Server;
  return {
    requests,
    start: async () => {
      server = createServer((req, res) => {
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (text += chunk));
        req.on('end', () => {
          const path = (req.url ?? '').split('?')[0];
          requests.push({ method: req.method ?? '', path, body: text ? (JSON.parse(text) as Record<string, unknown>) : null });
          const answer = (status: number, body: unknown): void => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body));
          };
          if (path.startsWith('/data-staging/')) {
            answer(402, { detail: 'Batch processing is not enabled for this workspace. Upgrade your plan or contact sales at https://roboflow.com/sales.' });
            return;
          }
          if (path === '/videoinfer/' && req.method === 'POST') {
            answer(200, { jobId: `job-${requests.length}` });
            return;
          }
          if (path === '/videoinfer/') {
            answer(200, { status: 'processing', progress: 40 });
            return;
          }
          if (path.startsWith('/batch-processing/')) {
            answer(200, { job: { currentStage: 'processing', plannedStages: ['processing', 'export'], isTerminal: false } });
            return;
          }
          answer(404, { detail: 'Not Found' });
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const KEY = secret('stub-key-123');

describe('n8n Video Job (stub API)', () => {
  const api = stubApi();
  const other = stubApi();
  let url: string;
  let otherUrl: string;

  before(async () => {
    url = await api.start();
    otherUrl = await other.start();
  });
  after(async () => {
    await api.stop();
    await other.stop();
  });
  beforeEach(() => {
    api.requests.length = 0;
    other.requests.length = 0;
  });

  /** Runs the node at a version with these parameters (a video URL, so no upload). */
  const run = (version: number, parameters: Record<string, unknown>, items?: INodeExecutionData[]) => {
    const context = executeContext({
      type: 'roboflowVideoJob',
      credential: { apiKey: KEY, serverUrl: url, apiUrl: url },
      parameters: { input: 'url', videoUrl: 'https://example.com/clip.mp4', fps: 5, ...parameters },
      ...(items ? { items } : {}),
    });
    const node = testNode('roboflowVideoJob', version);
    return new RoboflowVideoJob().execute.call({ ...context, getNode: () => node });
  };
  const submit = (version: number, parameters: Record<string, unknown>) => run(version, { operation: 'submit', target: 'workflow', workspace: 'demo', workflowId: 'detect-colors', ...parameters });
  const videoinfer = () => api.requests.filter((request) => request.path === '/videoinfer/' && request.method === 'POST');
  const batchCalls = () => api.requests.filter((request) => request.path.startsWith('/data-staging/') || request.path.startsWith('/batch-processing/'));

  describe('workflow version and dry run', () => {
    it('sends the Workflow Version ID and Dry Run when set, and neither when not', async () => {
      const [[set]] = await submit(1, { workflowOptions: { workflowVersionId: ' v7 ', disableSinks: true } });
      assert.equal(set.json.jobId, 'job-1');
      const [first] = videoinfer();
      assert.equal(first.body!.workflow_version_id, 'v7');
      assert.equal(first.body!.disable_sinks, true);
      assert.equal(first.body!.workflow, 'detect-colors');
      await submit(1, { workflowOptions: {} });
      const [, second] = videoinfer();
      assert.equal('workflow_version_id' in second.body!, false);
      assert.equal('disable_sinks' in second.body!, false);
    });

    it('offers them, and the Batch Processing options, only for workflow jobs that are processed or submitted', () => {
      const field = new RoboflowVideoJob().description.properties.find((property) => property.name === 'workflowOptions')!;
      assert.deepEqual(field.displayOptions?.show, { operation: ['process', 'submit'], target: ['workflow'] });
      assert.deepEqual(
        (field.options as Array<{ name: string }>).map((option) => option.name),
        ['disableSinks', 'machineType', 'notificationsUrl', 'workflowVersionId'],
      );
    });
  });

  describe('API (version 2)', () => {
    it('new nodes use Auto and read a job from the input item; workflows saved with version 1 keep /videoinfer and the Job ID field', () => {
      const description = new RoboflowVideoJob().description;
      assert.deepEqual([description.version, description.defaultVersion], [[1, 2], 2]);
      const resolve = (typeVersion: number, parameters: Record<string, unknown>) =>
        NodeHelpers.getNodeParameters(description.properties, parameters as never, true, false, { typeVersion }, description)!;
      assert.equal(resolve(1, { operation: 'process' }).api, V1_DEFAULTS.api);
      assert.equal(resolve(2, { operation: 'process' }).api, V2_DEFAULTS.api);
      assert.deepEqual([V1_DEFAULTS.api, V2_DEFAULTS.api], ['videoinfer', 'auto']);
      assert.equal(resolve(1, { operation: 'getResults' }).jobSource, 'id');
      assert.equal(resolve(2, { operation: 'getResults' }).jobSource, 'item');
      assert.equal('jobId' in resolve(2, { operation: 'getResults' }), false);
      assert.equal('api' in resolve(2, { operation: 'process', target: 'model' }), false, 'a model job has one API');
      const api = description.properties.find((property) => property.name === 'api')!;
      assert.deepEqual(
        (api.options as Array<{ value: string }>).map((option) => option.value),
        ['auto', 'batch', 'videoinfer'],
      );
    });

    it('a version 1 node without the field submits to /videoinfer, as before', async () => {
      const [[item]] = await submit(1, {});
      assert.equal(videoinfer().length, 1);
      assert.equal(batchCalls().length, 0);
      assert.deepEqual([item.json.generation, item.json.fallback], ['workflow', undefined]);
    });

    it('Auto on a workspace without Batch Processing (402): /videoinfer, and the item says so', async () => {
      const [[item]] = await submit(2, {});
      assert.equal(batchCalls().length, 1, 'one look at Batch Processing');
      assert.equal(videoinfer().length, 1);
      assert.equal(item.json.generation, 'workflow');
      assert.deepEqual(item.json.fallback, {
        from: 'batch',
        reason: "Not available on this workspace's plan (402) (Batch processing is not enabled for this workspace. Upgrade your plan or contact sales at https://roboflow.com/sales.)",
      });
    });

    it('Batch Processing chosen on such a workspace: the 402 is the error, nothing else is tried', async () => {
      await assert.rejects(submit(2, { api: 'batch' }), (error: Error) => error instanceof NodeOperationError && error.message.includes("Not available on this workspace's plan (402)"));
      assert.equal(videoinfer().length, 0);
    });

    it('a dry run: Auto uses /videoinfer without asking Batch Processing (it cannot skip sinks); Batch Processing refuses it', async () => {
      const [[item]] = await submit(2, { workflowOptions: { disableSinks: true } });
      assert.equal(batchCalls().length, 0);
      assert.equal(videoinfer()[0].body!.disable_sinks, true);
      assert.deepEqual(item.json.fallback, { from: 'batch', reason: "a dry run (Batch Processing cannot skip the workflow's sinks)" });
      await assert.rejects(
        submit(2, { api: 'batch', workflowOptions: { disableSinks: true } }),
        /Batch Processing cannot skip the workflow's sinks: turn Dry Run off, or choose API: Video Inference \(\/videoinfer\)$/,
      );
    });

    it('a pinned workflow version: Auto uses /videoinfer and says why; Batch Processing refuses it', async () => {
      const [[item]] = await submit(2, { workflowOptions: { workflowVersionId: 'v3' } });
      assert.equal(batchCalls().length, 0);
      assert.deepEqual(item.json.fallback, { from: 'batch', reason: 'a pinned workflow version (Batch Processing runs the current one)' });
      await assert.rejects(submit(2, { api: 'batch', workflowOptions: { workflowVersionId: 'v3' } }), /Batch Processing runs the workflow's current version/);
    });

    it('a Notifications URL must be http(s); a model job needs project/version', async () => {
      await assert.rejects(submit(2, { api: 'batch', workflowOptions: { notificationsUrl: 'ftp://x' } }), /The Notifications URL must start with http:\/\/ or https:\/\/$/);
      await assert.rejects(run(2, { operation: 'submit', target: 'model', model: 'my-model' }), /Set the model as project\/version, e\.g\. my-project\/3 \(got "my-model"\)$/);
      assert.equal(api.requests.length, 0);
    });
  });

  describe('jobs read from input items', () => {
    const lookup = (operation: string, items: INodeExecutionData[], extra: Record<string, unknown> = {}) => run(2, { operation, options: {}, ...extra }, items);

    it("Get Job Status takes Submit Job's item as it is, and passes the job on with its state (for Get Job Results after an IF)", async () => {
      const [[submitted]] = await submit(2, {});
      const [[status]] = await lookup('getStatus', [submitted]);
      assert.equal(status.json.state, 'running');
      assert.equal(status.json.progress, 0.4);
      for (const field of ['generation', 'jobId', 'apiUrl', 'fallback']) assert.deepEqual(status.json[field], submitted.json[field], field);
      const [[again]] = await lookup('getStatus', [status]);
      assert.equal(again.json.jobId, submitted.json.jobId);
      await assert.rejects(lookup('getResults', [status]), /Video job job-\d+ has not finished yet \(running\): wait longer, then get the results$/);
    });

    it('a Batch Processing job is looked up in its workspace', async () => {
      const handle = { generation: 'batch', jobId: 'job-abc', apiUrl: url, submittedAt: '2026-12-01T10:00:00.000Z', workspace: 'my-ws', workflow: 'detect-colors', batchId: 'job-abc-input', fps: 5 };
      const [[status]] = await lookup('getStatus', [{ json: handle }]);
      assert.equal(status.json.state, 'running');
      assert.deepEqual(
        api.requests.map((request) => request.path),
        ['/batch-processing/v1/external/my-ws/jobs/job-abc'],
      );
      await lookup('getStatus', [{ json: {} }], { jobSource: 'id', jobId: 'job-abc', generation: 'batch', workspace: 'my-ws' });
      assert.equal(api.requests.length, 2);
      await assert.rejects(lookup('getStatus', [{ json: {} }], { jobSource: 'id', jobId: 'job-abc', generation: 'batch' }), /Set the workspace the Batch Processing job runs in$/);
    });

    it('an item that is not a job says what is wrong; a job of another API URL is refused before any request (the key never goes there)', async () => {
      await assert.rejects(
        lookup('getResults', [{ json: { hello: 'world' } }]),
        (error: Error) =>
          error instanceof NodeOperationError &&
          error.message === "Input item 0 is not a job from Submit Job (job.generation is not one of model, workflow, batch): pass Submit Job's output item on unchanged, or set Job to By Job ID",
      );
      await assert.rejects(lookup('getStatus', [{ json: { generation: 'batch', jobId: 'j', apiUrl: url, submittedAt: '' } }]), /job\.workspace is missing \(a Batch Processing job needs it\)/);
      const foreign = { generation: 'workflow', jobId: 'job-9', apiUrl: otherUrl, submittedAt: '' };
      await assert.rejects(
        lookup('getStatus', [{ json: foreign }]),
        new RegExp(`Job job-9 was submitted to ${otherUrl}, not to this credential's API URL \\(${url}\\): use the credential it was submitted with$`),
      );
      assert.equal(other.requests.length, 0);
      assert.equal(api.requests.length, 0);
    });

    it('Continue On Fail: a bad item carries its error, the good one its status', async () => {
      const [[submitted]] = await submit(2, {});
      const context = executeContext({
        type: 'roboflowVideoJob',
        credential: { apiKey: KEY, serverUrl: url, apiUrl: url },
        parameters: { operation: 'getStatus', options: {} },
        items: [{ json: {} }, submitted],
        continueOnFail: true,
      });
      const node = testNode('roboflowVideoJob', 2);
      const [out] = await new RoboflowVideoJob().execute.call({ ...context, getNode: () => node });
      assert.match(String(out[0].json.error), /^Input item 0 is not a job from Submit Job/);
      assert.equal(out[1].json.state, 'running');
    });
  });
});
