import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureN8nRuntime, n8nCommand, n8nEnvironment, n8nRun, startN8n, stopN8n as stopProcess, triggerStatuses, type N8nRuntime } from '../../scripts/lib/n8n-runtime';
import { REPO_ROOT, freePort } from '../../scripts/lib/node-red-process';
import { generateSceneVideo } from '../../server/media/generate';
import { getScene } from '../../server/media/scenes';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { installPackedPackage } from '../helpers/packed';

/**
 * A real n8n (2.41.0 on Node 24, installed on demand) with the packed package installed
 * the way a user does (into the n8n user folder's nodes/), a credential imported through
 * n8n's CLI, and the example workflows run as shipped: the video example headless with
 * `n8n execute` (its file where n8n 2.x lets nodes read: ~/.n8n-files, HOME being a
 * temporary folder here), the camera example published under `n8n start`. And what a
 * user meets with a typo: a published workflow with a wrong workflow ID.
 */

interface Workflow {
  id?: string;
  name: string;
  nodes: Array<{ name: string; parameters: Record<string, unknown> }>;
}

/** The local server's simulated cameras: on 8554 as the camera example expects, or on a free port if 8554 is taken. */
const SHIPPED_RTSP = 'rtsp://127.0.0.1:8554';

describe('end to end: the packed package in a real n8n', function () {
  this.timeout(900_000);
  let server: RunningServer;
  let runtime: N8nRuntime;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let home: string;
  let rtspPort: number;
  let n8n: ChildProcess | undefined;

  /** An example as shipped, under an id; only the camera port differs when 8554 was taken. */
  function example(file: string, id: string, edit: (workflow: Workflow) => void = () => undefined): Workflow {
    let text = readFileSync(join(REPO_ROOT, 'workflows', 'n8n', file), 'utf8');
    if (rtspPort !== 8554) text = text.split(SHIPPED_RTSP).join(`rtsp://127.0.0.1:${rtspPort}`);
    const parsed = JSON.parse(text) as Workflow;
    parsed.id = id;
    edit(parsed);
    return parsed;
  }

  function importWorkflow(workflow: Workflow): void {
    const path = join(work, `${workflow.id}.json`);
    writeFileSync(path, JSON.stringify([workflow]));
    n8nCommand(runtime, env, ['import:workflow', '--input', path]);
  }

  async function stopN8n(): Promise<void> {
    if (n8n) await stopProcess(n8n);
    n8n = undefined;
  }

  before(async () => {
    runtime = ensureN8nRuntime();
    rtspPort = await freePort(8554);
    server = await startLocalServer(['--rtsp-port', String(rtspPort), '--use-cases', 'demo']);
    work = mkdtempSync(join(tmpdir(), 'roboflow-n8n-'));
    home = join(work, 'home');
    const userFolder = join(work, 'user');
    const nodesDir = join(userFolder, '.n8n', 'nodes');
    mkdirSync(nodesDir, { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true }));
    installPackedPackage(nodesDir);
    // n8n's default file access (~/.n8n-files) is left as it is: HOME is ours.
    env = n8nEnvironment(userFolder, { HOME: home, N8N_PORT: String(await freePort(0)) });
    const credentials = [
      { id: 'roboflow-local', name: 'Roboflow (local server)', type: 'roboflowApi', data: { apiKey: API_KEY, region: 'us', plan: 'webrtc-gpu-small', serverUrl: server.url, apiUrl: server.url } },
    ];
    writeFileSync(join(work, 'credentials.json'), JSON.stringify(credentials));
    n8nCommand(runtime, env, ['import:credentials', '--input', join(work, 'credentials.json')]);
  });
  afterEach(stopN8n);
  after(async () => {
    await stopN8n();
    await server?.stop();
  });

  /** The node types n8n generated for its editor name our icons, and n8n serves the logo. */
  async function assertEditorShowsTheLogo(): Promise<void> {
    const types = JSON.parse(readFileSync(join(env.N8N_USER_FOLDER!, '.cache', 'n8n', 'public', 'types', 'nodes.json'), 'utf8')) as Array<{ name: string; iconUrl?: { light: string; dark: string } }>;
    const ours = types.filter((type) => type.name.startsWith('@visionflows/n8n-nodes-roboflow.'));
    for (const node of ['roboflowStreamTrigger', 'roboflowVideoJob', 'roboflowVisionEvent']) {
      assert.ok(
        ours.some((type) => type.name.endsWith(`.${node}`)),
        `${node} is in the editor`,
      );
    }
    const logo = readFileSync(join(REPO_ROOT, 'icons', 'roboflow.svg'), 'utf8');
    for (const type of ours) {
      assert.ok(type.iconUrl, `${type.name} has an icon`);
      const response = await fetch(`http://127.0.0.1:${env.N8N_PORT}/${type.iconUrl.light}`);
      assert.equal(response.status, 200, `${type.name}: ${type.iconUrl.light}`);
      assert.equal(await response.text(), logo);
    }
  }

  it('runs the video-file example as shipped: no file is an error that says where; with the file, every analysed frame is a row', async () => {
    importWorkflow(example('Roboflow - process a video file.json', 'rfvideoexample1'));
    const missing = n8nRun(runtime, env, ['execute', '--id', 'rfvideoexample1']);
    const said = missing.stdout + missing.stderr;
    assert.doesNotMatch(said, /Execution was successful/, 'a missing file is not a success');
    assert.match(said, /Video file not found: ~\/\.n8n-files\/roboflow-example\.mp4/);

    await generateSceneVideo(getScene('two-squares'), join(home, '.n8n-files', 'roboflow-example.mp4'));
    const printed = n8nCommand(runtime, env, ['execute', '--id', 'rfvideoexample1']);
    assert.match(printed, /Execution was successful/, printed.slice(-2000));
    const run = JSON.parse(printed.slice(printed.indexOf('{', printed.indexOf('====')))) as {
      data: { resultData: { runData: Record<string, Array<{ data: { main: Array<Array<{ json: { frame: number; objects: number } }>> } }>> } };
    };
    const rows = run.data.resultData.runData['One row per frame'][0].data.main[0].map((item) => item.json);
    assert.equal(rows.length, 10);
    assert.deepEqual(rows[0], { frame: 0, seconds: 0, objects: 2 });
    assert.deepEqual(rows[9], { frame: 27, seconds: 1.8, objects: 2 });
    assert.doesNotMatch(printed + said, new RegExp(API_KEY), 'the key is never printed');
  });

  it('a published workflow with a wrong workflow ID fails with our message, and makes only a handful of start requests in a minute', async () => {
    importWorkflow(
      example('Roboflow - camera alerts to Vision Events.json', 'rftypoexample1', (workflow) => {
        workflow.name = 'Roboflow: a typo in the workflow ID';
        workflow.nodes.find((node) => node.name === 'Roboflow Stream Trigger')!.parameters.workflowId = 'detect-colours';
      }),
    );
    n8nCommand(runtime, env, ['publish:workflow', '--id', 'rftypoexample1']);
    const output: string[] = [];
    const before = await server.requestCount('initialise_webrtc_worker');
    n8n = await startN8n(runtime, env, output);
    await eventually(() => output.join('').includes('Not found (404): check the workspace name and workflow id'), 60_000, "n8n's log to show the activation failure with our message");
    const firstFailure = Date.now();
    // A window, not a state: what n8n does in a minute is what is measured.
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    const calls = (await server.requestCount('initialise_webrtc_worker')) - before;
    const log = output.join('');
    writeFileSync(join(work, 'typo-n8n.log'), log);
    try {
      console.log(`      (${calls} start requests in the first minute; n8n log: ${join(work, 'typo-n8n.log')})`);
      assert.ok(calls >= 1 && calls <= 5, `${calls} start requests in ${Math.round((Date.now() - firstFailure) / 1000) + 1} s`);
      assert.equal((await server.sessions()).active.length, 0);
      assert.match(log, /There was a problem activating the workflow: "Not found \(404\): check the workspace name and workflow id/);
      assert.doesNotMatch(log, /client is destroyed/i);
      assert.doesNotMatch(log, new RegExp(API_KEY), 'the key is never logged');
      await stopN8n();
      // What the editor shows on the workflow: its trigger failed, with our message.
      const status = (await triggerStatuses(env.N8N_USER_FOLDER!)).find((row) => row.workflowId === 'rftypoexample1');
      assert.equal(status?.status, 'failed');
      assert.match(status.errorMessage ?? '', /Not found \(404\): check the workspace name and workflow id/);
    } finally {
      await stopN8n();
      n8nRun(runtime, env, ['unpublish:workflow', '--id', 'rftypoexample1']);
    }
  });

  it('runs the camera-alerts example as shipped, published: Vision Events arrive; stopping n8n ends the stream', async () => {
    importWorkflow(example('Roboflow - camera alerts to Vision Events.json', 'rfalertsexample1'));
    n8nCommand(runtime, env, ['publish:workflow', '--id', 'rfalertsexample1']);
    const output: string[] = [];
    n8n = await startN8n(runtime, env, output);
    const events = await eventually(
      async () => {
        const stored = (await server.json<{ events: Array<{ eventType: string; deviceId: string; eventData: Record<string, unknown> }> }>('/local/vision-events')).events;
        return stored.length >= 2 ? stored : undefined;
      },
      90_000,
      'two Vision Events from the published workflow',
    );
    assert.ok(events.every((event) => event.eventType === 'safety_alert' && event.deviceId === 'door-camera'));
    assert.equal(events[0].eventData.alertType, 'person at the door');
    assert.equal((await server.sessions()).active.length, 1);
    await assertEditorShowsTheLogo();
    await stopN8n();
    await eventually(async () => (await server.sessions()).active.length === 0, 15_000, 'the stream ended when n8n stopped');
    assert.equal((await server.sessions()).ended.at(-1)!.endedReason, 'client closed the connection');
    assert.doesNotMatch(output.join(''), new RegExp(API_KEY), 'the key is never logged');
  });
});
