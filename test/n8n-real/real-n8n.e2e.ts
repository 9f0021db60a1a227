import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureN8nRuntime, n8nCommand, n8nEnvironment, startN8n, type N8nRuntime } from '../../scripts/lib/n8n-runtime';
import { REPO_ROOT, freePort } from '../../scripts/lib/node-red-process';
import { generateSceneVideo } from '../../server/media/generate';
import { getScene } from '../../server/media/scenes';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { installPackedPackage } from '../helpers/packed';

/**
 * A real n8n (2.41.0 on Node 24, installed on demand) with the packed package installed
 * the way a user does (into the n8n user folder's nodes/), the example workflows and a
 * credential imported through n8n's CLI, the Video Job workflow run headless with
 * `n8n execute`, and the Stream Trigger workflow published and running under
 * `n8n start`, logging Vision Events to the local server.
 */

interface Workflow {
  id?: string;
  nodes: Array<{ name: string; parameters: Record<string, unknown> & { options?: Record<string, unknown> } }>;
}

function workflow(file: string, id: string, edit: (workflow: Workflow) => void): Workflow {
  const parsed = JSON.parse(readFileSync(join(REPO_ROOT, 'workflows', 'n8n', file), 'utf8')) as Workflow;
  parsed.id = id;
  edit(parsed);
  return parsed;
}

describe('end to end: the packed package in a real n8n', function () {
  this.timeout(900_000);
  let server: RunningServer;
  let runtime: N8nRuntime;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let n8n: ChildProcess | undefined;
  const n8nOutput: string[] = [];

  before(async () => {
    runtime = ensureN8nRuntime();
    server = await startLocalServer(['--rtsp-port', '0', '--use-cases', 'demo']);
    work = mkdtempSync(join(tmpdir(), 'roboflow-n8n-'));
    const userFolder = join(work, 'user');
    const nodesDir = join(userFolder, '.n8n', 'nodes');
    mkdirSync(nodesDir, { recursive: true });
    writeFileSync(join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true }));
    installPackedPackage(nodesDir);
    env = n8nEnvironment(userFolder, { N8N_RESTRICT_FILE_ACCESS_TO: work, N8N_PORT: String(await freePort(0)) });
    const credentials = [{ id: 'roboflow-local', name: 'Roboflow (local server)', type: 'roboflowApi', data: { apiKey: API_KEY, region: 'us', plan: 'webrtc-gpu-small', serverUrl: server.url, apiUrl: server.url } }];
    writeFileSync(join(work, 'credentials.json'), JSON.stringify(credentials));
    n8nCommand(runtime, env, ['import:credentials', '--input', join(work, 'credentials.json')]);
  });
  after(async () => {
    if (n8n && n8n.exitCode === null) {
      n8n.kill('SIGTERM');
      await new Promise((resolve) => n8n?.once('exit', resolve));
    }
    await server?.stop();
  });

  /** The node types n8n generated for its editor name our icons, and n8n serves the logo. */
  async function assertEditorShowsTheLogo(): Promise<void> {
    const types = JSON.parse(readFileSync(join(env.N8N_USER_FOLDER!, '.cache', 'n8n', 'public', 'types', 'nodes.json'), 'utf8')) as Array<{ name: string; iconUrl?: { light: string; dark: string } }>;
    const ours = types.filter((type) => type.name.startsWith('@visionflows/n8n-nodes-roboflow.'));
    for (const node of ['roboflowStreamTrigger', 'roboflowVideoJob', 'roboflowVisionEvent']) {
      assert.ok(ours.some((type) => type.name.endsWith(`.${node}`)), `${node} is in the editor`);
    }
    const logo = readFileSync(join(REPO_ROOT, 'icons', 'roboflow.svg'), 'utf8');
    for (const type of ours) {
      assert.ok(type.iconUrl, `${type.name} has an icon`);
      const response = await fetch(`http://127.0.0.1:${env.N8N_PORT}/${type.iconUrl.light}`);
      assert.equal(response.status, 200, `${type.name}: ${type.iconUrl.light}`);
      assert.equal(await response.text(), logo);
    }
  }

  it('runs the video-file example headless: every analysed frame becomes a row', async () => {
    const video = join(work, 'clip.mp4');
    await generateSceneVideo(getScene('two-squares'), video);
    const flow = workflow('Roboflow - process a video file.json', 'rfvideoexample1', (wf) => {
      wf.nodes.find((node) => node.name === 'Read video')!.parameters.fileSelector = video;
    });
    writeFileSync(join(work, 'video-workflow.json'), JSON.stringify([flow]));
    n8nCommand(runtime, env, ['import:workflow', '--input', join(work, 'video-workflow.json')]);
    const printed = n8nCommand(runtime, env, ['execute', '--id', 'rfvideoexample1']);
    assert.match(printed, /Execution was successful/, printed.slice(-2000));
    const run = JSON.parse(printed.slice(printed.indexOf('{', printed.indexOf('===='))))  as {
      data: { resultData: { runData: Record<string, Array<{ executionStatus: string; data: { main: Array<Array<{ json: { frame: number; objects: number } }>> } }>> } };
    };
    const rows = run.data.resultData.runData['One row per frame'][0].data.main[0].map((item) => item.json);
    assert.equal(rows.length, 10);
    assert.deepEqual(rows[0], { frame: 0, seconds: 0, objects: 2 });
    assert.deepEqual(rows[9], { frame: 27, seconds: 1.8, objects: 2 });
    assert.doesNotMatch(printed, new RegExp(API_KEY), 'the key is never printed');
  });

  it('runs the camera-alerts example as an active workflow: Vision Events arrive; stopping n8n ends the stream', async () => {
    const rtsp = (await server.cameras()).find((camera) => camera.name === 'door')!.rtsp_url!;
    const flow = workflow('Roboflow - camera alerts to Vision Events.json', 'rfalertsexample1', (wf) => {
      const trigger = wf.nodes.find((node) => node.name === 'Roboflow Stream Trigger')!;
      trigger.parameters.url = rtsp;
      trigger.parameters.options = { ...trigger.parameters.options, throttleSeconds: 1 };
    });
    writeFileSync(join(work, 'alerts-workflow.json'), JSON.stringify([flow]));
    n8nCommand(runtime, env, ['import:workflow', '--input', join(work, 'alerts-workflow.json')]);
    n8nCommand(runtime, env, ['publish:workflow', '--id', 'rfalertsexample1']);
    n8n = await startN8n(runtime, env, n8nOutput);
    const events = await eventually(
      async () => {
        const stored = (await server.json<{ events: Array<{ eventType: string; deviceId: string; eventData: Record<string, unknown> }> }>('/local/vision-events')).events;
        return stored.length >= 3 ? stored : undefined;
      },
      90_000,
      'three Vision Events from the active workflow',
    );
    assert.ok(events.every((event) => event.eventType === 'safety_alert' && event.deviceId === 'door-camera'));
    assert.equal(events[0].eventData.alertType, 'person at the door');
    assert.equal((await server.sessions()).active.length, 1);
    await assertEditorShowsTheLogo();
    n8n.kill('SIGTERM');
    await new Promise((resolve) => n8n?.once('exit', resolve));
    await eventually(async () => (await server.sessions()).active.length === 0, 15_000, 'the stream ended when n8n stopped');
    assert.equal((await server.sessions()).ended[0].endedReason, 'client closed the connection');
    assert.doesNotMatch(n8nOutput.join(''), new RegExp(API_KEY), 'the key is never logged');
  });
});
