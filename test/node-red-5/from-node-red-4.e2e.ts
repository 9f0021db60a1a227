import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { examplesFor, ffmpegEnvironment, installIntoUserDir, nodeRed4, nodeRed5, prepareUserDir, startNodeRed, type NodeRedRuntime, type RunningNodeRed } from '../../scripts/lib/node-red-process';
import { debugSidebar } from '../helpers/debug-sidebar';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { packedPackage } from '../helpers/packed';

/**
 * Moving from Node-RED 4 to 5 with our nodes in the flows, both ways a user does it:
 * the flows exported from Node-RED 4 (what *Export* gives: no keys) imported into a fresh
 * Node-RED 5, and the Node-RED 4 user directory itself opened by Node-RED 5 (an upgrade in
 * place: the Home Assistant add-on's way). Every example runs in 5 as it did in 4, with
 * nothing changed but the key typed again after an import.
 */

/** The active debug node that shows each example working, by example (03 and 06 are checked otherwise). */
const PROOF = [
  { example: '01', debug: 'ex1debug', what: 'detections' },
  { example: '02', debug: 'ex2summary', what: 'the video job results' },
  { example: '04', debug: 'ex4debug', what: 'a Vision Event logged' },
  { example: '05', debug: 'ex5logged', what: 'an alert logged with its snapshot' },
];

describe('a flow from Node-RED 4 in Node-RED 5', function () {
  this.timeout(300_000);
  let server: RunningServer;
  let node4: NodeRedRuntime;
  let node5: NodeRedRuntime;
  let video: string;
  let userDir4: string;
  let exported: Array<Record<string, unknown>>;
  const running: RunningNodeRed[] = [];

  async function start(userDir: string, runtime: NodeRedRuntime): Promise<RunningNodeRed> {
    const nodeRed = await startNodeRed(userDir, { runtime, env: { ...ffmpegEnvironment(), ROBOFLOW_DEMO_VIDEO: video } });
    running.push(nodeRed);
    return nodeRed;
  }

  async function stop(nodeRed: RunningNodeRed): Promise<void> {
    assert.equal(await nodeRed.stop(), 0, 'Node-RED stops cleanly');
    running.splice(running.indexOf(nodeRed), 1);
    await eventually(async () => (await server.sessions()).active.length === 0, 20_000, 'every session ended with Node-RED');
  }

  /** Every example does its job: streams on the server, a message from each example's proof debug node. */
  async function assertEveryExampleRuns(nodeRed: RunningNodeRed, label: string): Promise<void> {
    const sidebar = await debugSidebar(nodeRed.url);
    try {
      // Examples 1, 4 and 5 stream the RTSP camera; example 3 streams frames fetched every second.
      const inferences = await server.requestCount('workflow_inference');
      await eventually(async () => (await server.sessions()).active.length === 4, 30_000, `${label}: four sessions on the server`);
      const inject = await nodeRed.request('/inject/ex2inject', { method: 'POST' });
      assert.equal(inject.status, 200, "example 2's inject button");
      for (const { example, debug, what } of PROOF) {
        await eventually(() => sidebar.messages.some((message) => message.id === debug), 90_000, `${label}: example ${example}, ${what}, in the Debug sidebar`);
      }
      await eventually(
        async () => {
          const response = await fetch(`${nodeRed.url}/roboflow-demo/latest.jpg`);
          const body = Buffer.from(await response.arrayBuffer());
          return response.ok && body[0] === 0xff && body[1] === 0xd8;
        },
        30_000,
        `${label}: example 03 serving an annotated JPEG`,
      );
      // Example 06 asks the workflow about a snapshot every 10 s (whether a person is on it depends on the moment).
      await eventually(async () => (await server.requestCount('workflow_inference')) > inferences, 30_000, `${label}: example 06 asking about a snapshot`);
      assert.deepEqual(
        sidebar.messages.filter((message) => message.id === 'ex6errors'),
        [],
        `${label}: example 06 caught no error`,
      );
      // node.error() reaches the sidebar at level 20.
      const errors = sidebar.messages.filter((message) => (message as { level?: number }).level === 20);
      assert.deepEqual(errors, [], `${label}: no error in the Debug sidebar`);
      assert.doesNotMatch(nodeRed.output.join(''), /\[error\]/, nodeRed.output.join('').slice(-3000));
    } finally {
      sidebar.close();
    }
  }

  before(async function () {
    this.timeout(600_000);
    node4 = nodeRed4();
    node5 = nodeRed5();
    video = await sceneVideo('door', { loops: 1 });
    server = await startLocalServer(['--rtsp-port', '0']);
    userDir4 = join(mkdtempSync(join(tmpdir(), 'roboflow-nr4-')), 'user-dir');
    prepareUserDir(userDir4);
    installIntoUserDir(userDir4, packedPackage(), node4);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      console.log(`local server: ${server.output.join('').slice(-3000)}\nNode-RED: ${running.map((nodeRed) => nodeRed.output.join('').slice(-3000)).join('\n')}`);
  });
  after(async () => {
    for (const nodeRed of running) await nodeRed.stop();
    await server?.stop();
  });

  it('every example runs in Node-RED 4 (the flows a user has before upgrading)', async () => {
    const nodeRed = await start(userDir4, node4);
    assert.match(nodeRed.output.join(''), /Node-RED version: v4\./);
    const rtspPort = Number(new URL((await server.cameras())[0].rtsp_url!).port);
    await nodeRed.deploy(examplesFor({ url: server.url, rtspPort, apiKey: API_KEY }));
    await assertEveryExampleRuns(nodeRed, 'Node-RED 4');
    // What menu > Export > All flows gives: the flows without any credential.
    exported = (await nodeRed.getFlows()) as Array<Record<string, unknown>>;
    assert.ok(!JSON.stringify(exported).includes(API_KEY), 'an export carries no key');
    await stop(nodeRed);
  });

  it('the export imports into a fresh Node-RED 5 unchanged: with the key typed again, every example runs', async () => {
    assert.ok(exported, 'the flows exported from Node-RED 4');
    const userDir = join(mkdtempSync(join(tmpdir(), 'roboflow-nr5-')), 'user-dir');
    prepareUserDir(userDir);
    installIntoUserDir(userDir, packedPackage(), node5);
    const nodeRed = await start(userDir, node5);
    assert.match(nodeRed.output.join(''), /Node-RED version: v5\./);
    assert.match(nodeRed.output.join(''), /Node\.js {2}version: v24\./);
    // The import, then the key typed into the config node: the only change a user makes.
    const imported = exported.map((node) => (node.type === 'roboflow-config' ? { ...node, credentials: { apiKey: API_KEY } } : node));
    await nodeRed.deploy(imported);
    assert.deepEqual(strip(await nodeRed.getFlows()), strip(exported), 'Node-RED 5 keeps every node and property as Node-RED 4 exported them');
    await assertEveryExampleRuns(nodeRed, 'Node-RED 5, imported');
    await stop(nodeRed);
  });

  it('the Node-RED 4 user directory, opened by Node-RED 5 (an upgrade in place), runs every example with its stored key', async () => {
    const nodeRed = await start(userDir4, node5);
    assert.match(nodeRed.output.join(''), /Node-RED version: v5\./);
    await assertEveryExampleRuns(nodeRed, 'Node-RED 5, upgraded in place');
    await stop(nodeRed);
  });
});

/** Flows as comparable JSON: sorted by id (the order of a deploy is not a property). */
function strip(flows: unknown[]): unknown[] {
  return [...(flows as Array<{ id: string }>)].sort((a, b) => a.id.localeCompare(b.id));
}
