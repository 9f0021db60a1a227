import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_NAME, examplesFor, ffmpegEnvironment, installIntoUserDir, prepareUserDir, startNodeRed, type NodeRedRuntime, type RunningNodeRed } from '../../scripts/lib/node-red-process';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { packedPackage } from '../helpers/packed';

/** The Node-RED node types of the package, sorted. */
export const NODE_RED_TYPES = ['roboflow-config', 'roboflow-objects', 'roboflow-stream', 'roboflow-video-job', 'roboflow-vision-event', 'roboflow-workflow'];

/**
 * The package as a user gets it: `npm pack`, `npm install <tarball>` into a plain
 * Node-RED user directory, a real Node-RED process, flows deployed through the admin
 * HTTP API with their credentials, then a redeploy and a delete. One body for each
 * Node-RED tested: `runtime` is called in the suite's first hook (it may install one).
 */
export function describeRealNodeRed(name: string, runtime: () => NodeRedRuntime): void {
  describe(`end to end: the packed package in a real ${name}`, function () {
    this.timeout(240_000);
    let server: RunningServer;
    let nodeRed: RunningNodeRed;
    let userDir: string;
    const admin = { username: 'admin', password: 'admin-password-123' };

    before(async function () {
      this.timeout(600_000);
      const chosen = runtime();
      console.log(`      (${chosen.label})`);
      server = await startLocalServer(['--rtsp-port', '0']);
      userDir = join(mkdtempSync(join(tmpdir(), 'roboflow-e2e-')), 'user-dir');
      prepareUserDir(userDir, { adminUser: admin });
      installIntoUserDir(userDir, packedPackage(), chosen);
      nodeRed = await startNodeRed(userDir, { adminUser: admin, runtime: chosen, env: ffmpegEnvironment() });
      assert.match(nodeRed.output.join(''), new RegExp(`Node-RED version: v${chosen.nodeRedVersion.replace(/\./g, '\\.')}`));
      assert.match(nodeRed.output.join(''), new RegExp(`Node.js  version: v${chosen.nodeVersion.replace(/\./g, '\\.')}`));
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed') console.log(`local server: ${server.output.join('').slice(-3000)}\nNode-RED: ${nodeRed?.output.join('').slice(-3000)}`);
    });
    after(async () => {
      if (nodeRed) assert.equal(await nodeRed.stop(), 0, 'Node-RED stops cleanly');
      await server?.stop();
    });

    it('installs from the tarball and registers all six nodes without errors', async () => {
      const nodes = (await (await nodeRed.request('/nodes', { headers: { accept: 'application/json' } })).json()) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
      const ours = nodes.filter((set) => set.module === PACKAGE_NAME);
      assert.deepEqual(ours.flatMap((set) => set.types).sort(), NODE_RED_TYPES);
      assert.ok(
        ours.every((set) => set.enabled && !set.err),
        JSON.stringify(ours),
      );
      const installed = JSON.parse(readFileSync(join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'), 'package.json'), 'utf8')) as { name: string };
      assert.equal(installed.name, PACKAGE_NAME);
      assert.equal(existsSync(join(userDir, 'node_modules', 'n8n-workflow')), false, 'no n8n packages in a Node-RED user dir');
    });

    it("the editor's test-connection endpoint needs Node-RED's permissions", async () => {
      const anonymous = await fetch(`${nodeRed.url}/roboflow/test-connection`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(anonymous.status, 401);
      const frame = await fetch(`${nodeRed.url}/roboflow-objects/any/frame`);
      assert.equal(frame.status, 401, "the Objects node's frame preview needs a login too");
      const allowed = await nodeRed.request('/roboflow/test-connection', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiKey: API_KEY, serverUrl: server.url, apiUrl: server.url }),
      });
      assert.deepEqual(((await allowed.json()) as { ok: boolean }).ok, true);
    });

    it('deploys every example with credentials; streams run; the key is never exported or printed', async () => {
      const flows = examplesFor({ url: server.url, rtspPort: Number(new URL((await server.cameras())[0].rtsp_url!).port), apiKey: API_KEY });
      await nodeRed.deploy(flows);
      // Examples 1, 4 and 5 stream the RTSP camera; example 3 streams frames fetched every second.
      await eventually(async () => (await server.sessions()).active.length === 4, 30_000, 'four sessions on the server');
      await eventually(async () => (await server.sessions()).active.every((s) => s.framesProcessed > 5), 30_000, 'frames processed in every session');
      await eventually(async () => (await server.json<{ events: unknown[] }>('/local/vision-events')).events.length > 0, 30_000, 'a Vision Event from example 4');
      const exported = JSON.stringify(await nodeRed.getFlows());
      assert.doesNotMatch(exported, new RegExp(API_KEY), 'GET /flows carries no key');
      assert.match(exported, /roboflow-config/);
      for (const file of readdirSync(userDir).filter((name) => name.endsWith('.json'))) {
        assert.doesNotMatch(readFileSync(join(userDir, file), 'utf8'), new RegExp(API_KEY), `${file} stores no key in clear`);
      }
      assert.doesNotMatch(nodeRed.output.join(''), new RegExp(API_KEY), 'the log never shows the key');
      assert.doesNotMatch(nodeRed.output.join(''), /\[error\]/, nodeRed.output.join('').slice(-2000));
    });

    it('a redeploy ends the old sessions and starts new ones; a delete ends them all', async () => {
      const before = await server.sessions();
      const flows = (await nodeRed.getFlows()) as Array<Record<string, unknown>>;
      // A full redeploy restarts every node (credentials are kept by Node-RED).
      await nodeRed.deploy(flows.map((node) => (node.type === 'roboflow-stream' ? { ...node, name: `${String(node.name)} (edited)` } : node)));
      await eventually(async () => (await server.sessions()).endedTotal >= before.endedTotal + 4, 20_000, 'old sessions ended');
      await eventually(async () => (await server.sessions()).active.length === 4, 30_000, 'new sessions running');
      await nodeRed.deploy([]);
      await eventually(async () => (await server.sessions()).active.length === 0, 20_000, 'every session ended after the delete');
      const ended = (await server.sessions()).ended.slice(0, 3);
      assert.ok(
        ended.every((session) => session.endedReason === 'client closed the connection'),
        JSON.stringify(ended),
      );
    });
  });
}
