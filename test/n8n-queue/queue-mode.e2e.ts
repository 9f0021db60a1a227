import { strict as assert } from 'node:assert';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureN8nRuntime, n8nCommand, n8nEnvironment, startN8n, startN8nWorker, stopN8n, type N8nRuntime } from '../../scripts/lib/n8n-runtime';
import { REPO_ROOT, freePort } from '../../scripts/lib/node-red-process';
import { API_KEY, eventually, peakConcurrency, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage, sceneVideo } from '../helpers/media';
import { installPackedPackage } from '../helpers/packed';
import { secret } from '../helpers/secrets';
import { startPostgres, startRedis, type Postgres, type Service } from './services';

/**
 * n8n the way it scales: queue mode. A Redis (Debian's redis-server) holds the queue, a
 * throw-away PostgreSQL cluster (Debian's postgresql, initdb in a temporary folder) is the
 * database queue mode requires, both started here; n8n 2.41 runs a main instance
 * (editor, webhooks, triggers) and one worker (executions), binary data in the database
 * (the mode queue mode needs: a worker cannot read the main's files). The packed package
 * is installed into their one user folder, as on a machine running both.
 *
 * What is proven: executions of the Video Job and the Vision Event node run on the
 * worker, with binary data the main received; the Stream Trigger holds exactly one
 * session, from the main, while its executions run on the worker; unpublishing ends the
 * session; a restart of the main leaves one session, never two.
 */

const ENCRYPTION_KEY = secret('queue-mode-encryption-key-5f2c');
const OWNER = { email: 'owner@example.com', firstName: 'Queue', lastName: 'Test', password: secret('Queue-owner-pass-9') };
const CREDENTIAL = { id: 'roboflow-local', name: 'Roboflow (local server)' };

interface Workflow {
  id: string;
  name: string;
  nodes: Array<Record<string, unknown>>;
  connections: Record<string, { main: Array<Array<{ node: string; type: 'main'; index: number }>> }>;
  settings: Record<string, unknown>;
  active: boolean;
}

/** A workflow of nodes in a row, each feeding the next. */
function chain(id: string, name: string, nodes: Array<Record<string, unknown>>): Workflow {
  const connections: Workflow['connections'] = {};
  nodes.forEach((node, index) => {
    if (index > 0) connections[String(nodes[index - 1].name)] = { main: [[{ node: String(node.name), type: 'main', index: 0 }]] };
  });
  return {
    id,
    name,
    nodes: nodes.map((node, index) => ({ id: `${id}-${index}`, position: [index * 240, 0], ...node })),
    connections,
    settings: { executionOrder: 'v1' },
    active: false,
  };
}

function webhook(path: string): Record<string, unknown> {
  return {
    name: 'Upload',
    type: 'n8n-nodes-base.webhook',
    typeVersion: 2,
    webhookId: `${path}-0000-4000-8000-000000000000`.slice(0, 36),
    // The caller gets what the last node returned: the worker's result, relayed by the main.
    parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', responseData: 'allEntries', options: { binaryPropertyName: 'data' } },
  };
}

const credentials = { roboflowApi: CREDENTIAL };

const VIDEO_WORKFLOW = chain('rfqueuevideo01', 'Queue: video upload to a Video Job', [
  webhook('rf-queue-video'),
  {
    name: 'Roboflow Video Job',
    type: '@visionflows/n8n-nodes-roboflow.roboflowVideoJob',
    typeVersion: 1,
    parameters: {
      operation: 'process',
      target: 'workflow',
      workspace: 'demo',
      workflowId: 'detect-colors',
      input: 'binary',
      binaryPropertyName: 'data',
      fps: 5,
      options: { itemPerFrame: true, pollSeconds: 1 },
    },
    credentials,
  },
]);

const EVENT_WORKFLOW = chain('rfqueueevent01', 'Queue: image upload to a Vision Event', [
  webhook('rf-queue-event'),
  {
    name: 'Roboflow Vision Event',
    type: '@visionflows/n8n-nodes-roboflow.roboflowVisionEvent',
    typeVersion: 1,
    parameters: {
      useCase: 'demo',
      createUseCase: false,
      eventType: 'safety_alert',
      fieldsFrom: 'define',
      eventData: JSON.stringify({ alertType: 'uploaded image', severity: 'low' }),
      options: { deviceId: 'upload', binaryPropertyName: 'data' },
    },
    credentials,
  },
]);

/** The shipped camera example: a Stream Trigger into Vision Events. */
function streamWorkflow(rtspPort: number): Workflow {
  const text = readFileSync(join(REPO_ROOT, 'workflows', 'n8n', 'Roboflow - camera alerts to Vision Events.json'), 'utf8')
    .split('rtsp://127.0.0.1:8554')
    .join(`rtsp://127.0.0.1:${rtspPort}`);
  return { ...(JSON.parse(text) as Workflow), id: 'rfqueuestream1' };
}

const PUBLISHED = [VIDEO_WORKFLOW.id, EVENT_WORKFLOW.id, 'rfqueuestream1'];

describe('n8n in queue mode: Redis, PostgreSQL, a main instance and a worker', function () {
  this.timeout(900_000);
  let runtime: N8nRuntime;
  let server: RunningServer;
  let redis: Service;
  let postgres: Postgres;
  let env: NodeJS.ProcessEnv;
  let workerEnv: NodeJS.ProcessEnv;
  let work: string;
  let port: number;
  let main: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  const mainOutput: string[] = [];
  const workerOutput: string[] = [];

  /** Rows from the n8n database, through Debian's psql. */
  function sql(query: string): string[][] {
    const text = execFileSync('psql', ['-h', '127.0.0.1', '-p', String(postgres.port), '-U', postgres.user, '-d', postgres.database, '-At', '-F', '\t', '-c', query], { encoding: 'utf8' });
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'));
  }

  /** Execution ids of a workflow, oldest first, with their status. */
  function executions(workflowId: string): Array<{ id: string; status: string; mode: string }> {
    return sql(`SELECT id, status, mode FROM execution_entity WHERE "workflowId" = '${workflowId}' ORDER BY id`).map(([id, status, mode]) => ({ id, status, mode }));
  }

  /** The execution ran on the worker: the main queued it, the worker ran it to the end, the main did not run it. */
  async function assertRanOnWorker(id: string): Promise<void> {
    // The worker may write the execution's status before its log line reaches us.
    await eventually(() => new RegExp(`Worker finished execution ${id} `).test(workerOutput.join('')), 15_000, `the worker's log of execution ${id}`);
    const mainLog = mainOutput.join('');
    const workerLog = workerOutput.join('');
    assert.match(mainLog, new RegExp(`Enqueued execution ${id} \\(job \\d+\\)`), `the main queued execution ${id}`);
    assert.match(workerLog, new RegExp(`Worker started execution ${id} \\(job \\d+\\)`), `the worker started execution ${id}`);
    assert.match(workerLog, new RegExp(`Worker finished execution ${id} \\(job \\d+\\)`), `the worker finished execution ${id}`);
    assert.doesNotMatch(mainLog, new RegExp(`Worker started execution ${id} `), `the main did not run execution ${id}`);
  }

  /**
   * Starts the main and waits until it has activated every published workflow. n8n 2.41
   * activates them in the background after its editor is up (its publication service,
   * which logs nothing on success) and records each trigger in
   * `workflow_publication_trigger_status`: the state to wait for.
   */
  async function startMain(): Promise<void> {
    main = await startN8n(runtime, env, mainOutput);
    for (const id of PUBLISHED) {
      await eventually(
        () => {
          const statuses = sql(`SELECT status FROM workflow_publication_trigger_status WHERE "workflowId" = '${id}'`).map(([status]) => status);
          return statuses.length > 0 && statuses.every((status) => status === 'activated');
        },
        120_000,
        `the main to activate ${id}`,
      );
    }
  }

  before(async function () {
    this.timeout(1_200_000);
    runtime = ensureN8nRuntime();
    const rtspPort = await freePort(0);
    server = await startLocalServer(['--rtsp-port', String(rtspPort), '--use-cases', 'demo']);
    redis = await startRedis();
    postgres = await startPostgres();
    work = mkdtempSync(join(tmpdir(), 'roboflow-n8n-queue-'));
    const home = join(work, 'home');
    const userFolder = join(work, 'user');
    const nodesDir = join(userFolder, '.n8n', 'nodes');
    mkdirSync(nodesDir, { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true }));
    installPackedPackage(nodesDir);
    port = await freePort(0);
    env = n8nEnvironment(userFolder, {
      HOME: home,
      N8N_PORT: String(port),
      N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
      DB_TYPE: 'postgresdb',
      DB_POSTGRESDB_HOST: '127.0.0.1',
      DB_POSTGRESDB_PORT: String(postgres.port),
      DB_POSTGRESDB_DATABASE: postgres.database,
      DB_POSTGRESDB_USER: postgres.user,
      EXECUTIONS_MODE: 'queue',
      QUEUE_BULL_REDIS_HOST: '127.0.0.1',
      QUEUE_BULL_REDIS_PORT: String(redis.port),
      N8N_DEFAULT_BINARY_DATA_MODE: 'database',
      // Keep every execution's data: the test reads where each ran.
      EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
    });
    const credentialFile = join(work, 'credentials.json');
    writeFileSync(
      credentialFile,
      JSON.stringify([{ ...CREDENTIAL, type: 'roboflowApi', data: { apiKey: API_KEY, region: 'us', plan: 'webrtc-gpu-small', serverUrl: server.url, apiUrl: server.url } }]),
    );
    n8nCommand(runtime, env, ['import:credentials', '--input', credentialFile]);
    for (const workflow of [VIDEO_WORKFLOW, EVENT_WORKFLOW, streamWorkflow(rtspPort)]) {
      const file = join(work, `${workflow.id}.json`);
      writeFileSync(file, JSON.stringify([workflow]));
      n8nCommand(runtime, env, ['import:workflow', '--input', file]);
      n8nCommand(runtime, env, ['publish:workflow', '--id', workflow.id]);
    }
    // Main and worker each start a task broker (for Code nodes): one port each.
    workerEnv = { ...env, N8N_RUNNERS_BROKER_PORT: String(await freePort(0)) };
    env.N8N_RUNNERS_BROKER_PORT = String(await freePort(0));
    worker = await startN8nWorker(runtime, workerEnv, workerOutput);
    await startMain();
  });
  let failed = false;
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });
  after(async function () {
    // A failure anywhere (a hook too) leaves both logs beside the test's data to read.
    const keep = work !== undefined && (failed || this.test?.parent?.tests.some((test) => test.state !== 'passed'));
    if (keep) {
      writeFileSync(join(work, 'main.log'), mainOutput.join(''));
      writeFileSync(join(work, 'worker.log'), workerOutput.join(''));
      console.log(`      (logs: ${join(work, 'main.log')}, ${join(work, 'worker.log')})\nlocal server: ${server?.output.join('').slice(-2000)}`);
    }
    if (main) await stopN8n(main);
    if (worker) await stopN8n(worker);
    await postgres?.stop();
    await redis?.stop();
    await server?.stop();
    // Green: nothing left behind (the user folder holds the installed package, ~100 MB).
    if (work !== undefined && !keep) rmSync(work, { recursive: true, force: true });
  });

  it('a video posted to a webhook on the main becomes a Video Job the worker runs, its binary kept in the database', async () => {
    const video = readFileSync(await sceneVideo('two-squares'));
    const response = await fetch(`http://127.0.0.1:${port}/webhook/rf-queue-video`, { method: 'POST', headers: { 'content-type': 'video/mp4' }, body: video });
    const text = await response.text();
    assert.equal(response.status, 200, text.slice(0, 2000));
    const rows = JSON.parse(text) as Array<{ frameOffset: number; outputs: { count: number } }>;
    assert.ok(rows.length >= 5, `one item per analysed frame: ${text.slice(0, 500)}`);
    assert.ok(
      rows.every((row) => row.outputs.count === 2),
      'two squares in every frame',
    );
    const [execution] = executions(VIDEO_WORKFLOW.id);
    assert.equal(execution.status, 'success');
    assert.equal(execution.mode, 'webhook');
    await assertRanOnWorker(execution.id);
    // The main received the upload and stored it in PostgreSQL (n8n files a webhook's
    // upload before its execution exists, so not always under the execution's id); the
    // execution the worker ran refers to that file, and the worker uploaded all of it.
    const stored = sql(`SELECT "fileId", "fileSize" FROM binary_data WHERE "mimeType" = 'video/mp4'`);
    assert.equal(stored.length, 1, `one stored video: ${JSON.stringify(sql('SELECT "sourceType", "sourceId", "mimeType", "fileSize" FROM binary_data'))}`);
    const [[fileId, fileSize]] = stored;
    assert.equal(Number(fileSize), video.length);
    const [[data]] = sql(`SELECT data FROM execution_data WHERE "executionId" = ${Number(execution.id)}`);
    assert.ok(data.includes(fileId), `the execution's input is the stored file ${fileId}`);
    assert.match(server.output.join(''), new RegExp(`upload [\\w-]+: ${video.length} bytes`), 'the worker uploaded the whole video to the server');
  });

  it('an image posted to a webhook on the main becomes a Vision Event with that image, sent by the worker', async () => {
    const before = await server.json<{ events: Array<{ deviceId?: string }>; images: number }>('/local/vision-events');
    const image = await sceneImage('door', 3);
    const response = await fetch(`http://127.0.0.1:${port}/webhook/rf-queue-event`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(image) });
    const text = await response.text();
    assert.equal(response.status, 200, text.slice(0, 2000));
    const after = await server.json<{ events: Array<{ deviceId?: string }>; images: number }>('/local/vision-events');
    assert.equal(after.events.filter((event) => event.deviceId === 'upload').length, before.events.filter((event) => event.deviceId === 'upload').length + 1, 'one event from the upload');
    assert.equal(after.images, before.images + 1, 'with the image attached');
    const [execution] = executions(EVENT_WORKFLOW.id);
    assert.equal(execution.status, 'success');
    await assertRanOnWorker(execution.id);
  });

  it('the published Stream Trigger holds exactly one session, from the main; its executions run on the worker', async () => {
    await eventually(async () => (await server.sessions()).active.length === 1, 120_000, 'the stream session');
    const events = await eventually(
      async () => {
        const stored = (await server.json<{ events: Array<{ deviceId?: string }> }>('/local/vision-events')).events.filter((event) => event.deviceId === 'door-camera');
        return stored.length >= 2 ? stored : undefined;
      },
      90_000,
      'two Vision Events from the camera',
    );
    assert.ok(events.length >= 2);
    const ran = await eventually(
      () => {
        const done = executions('rfqueuestream1').filter((execution) => execution.status === 'success');
        return done.length >= 2 ? done : undefined;
      },
      30_000,
      'two finished executions of the camera workflow',
    );
    for (const execution of ran) {
      assert.equal(execution.mode, 'trigger');
      await assertRanOnWorker(execution.id);
    }
    const sessions = await server.sessions();
    assert.equal(sessions.active.length, 1, 'one session, however many executions');
    assert.equal(peakConcurrency(sessions), 1, 'never two at once');
    // That session is the main's: the next test stops the main, and it ends.
  });

  it('a restart of the main ends its session and leaves exactly one new one, never two', async () => {
    const before = await server.sessions();
    await stopN8n(main!);
    main = undefined;
    await eventually(async () => (await server.sessions()).active.length === 0, 30_000, 'the session ended with the main');
    assert.equal((await server.sessions()).ended.at(-1)!.endedReason, 'client closed the connection');
    await startMain();
    await eventually(async () => (await server.sessions()).active.length === 1, 120_000, 'one session after the restart');
    const after = await server.sessions();
    assert.equal(after.started, before.started + 1, 'exactly one new session');
    assert.equal(peakConcurrency(after), 1, 'never two at once');
    // And it keeps working: frames still reach the worker's executions.
    const count = executions('rfqueuestream1').length;
    await eventually(() => executions('rfqueuestream1').length > count, 60_000, 'a new execution after the restart');
  });

  it('unpublishing the workflow (as the editor does) ends the session', async () => {
    const base = `http://127.0.0.1:${port}/rest`;
    // n8n binds its login cookie to the browser that got it.
    const browser = { 'browser-id': 'queue-mode-test' };
    const setup = await fetch(`${base}/owner/setup`, { method: 'POST', headers: { 'content-type': 'application/json', ...browser }, body: JSON.stringify(OWNER) });
    assert.equal(setup.status, 200, await setup.text());
    const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0];
    assert.match(cookie, /^n8n-auth=/);
    const started = (await server.sessions()).started;
    const response = await fetch(`${base}/workflows/rfqueuestream1/deactivate`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, ...browser }, body: '{}' });
    assert.equal(response.status, 200, (await response.text()).slice(0, 2000));
    await eventually(async () => (await server.sessions()).active.length === 0, 30_000, 'the session ended on unpublish');
    assert.equal((await server.sessions()).ended.at(-1)!.endedReason, 'client closed the connection');
    // A state, not a moment: no session comes back while the workflow stays unpublished.
    const executionsBefore = executions('rfqueuestream1').length;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    assert.equal((await server.sessions()).started, started, 'no new session');
    assert.ok(executions('rfqueuestream1').length <= executionsBefore + 1, 'no new executions (one may have been on its way)');
    assert.doesNotMatch(mainOutput.join('') + workerOutput.join(''), new RegExp(API_KEY), 'the key is never logged');
  });
});
