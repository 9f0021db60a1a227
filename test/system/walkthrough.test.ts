import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_NAME, freePort, prepareUserDir, startNodeRed, type RunningNodeRed } from '../../scripts/lib/node-red-process';
import { tapOutput } from '../../scripts/lib/output-tap';
import { debugSidebar, type DebugMessage } from '../helpers/debug-sidebar';
import { eventually, ROOT } from '../helpers/local-server';
import { installPackedPackage } from '../helpers/packed';

/** The key the README's step 1 prints, typed by the user into the config node. */
const KEY = 'local-dev-key';
const DEBIAN_FFMPEG = '/usr/bin/ffmpeg';

/** Starts the package's local server the way the README's step 1 does, from the user dir. */
async function startReadmeServer(userDir: string, ffmpeg: string): Promise<{ child: ChildProcess; output: string[]; stop(): Promise<void> }> {
  const bin = join(userDir, 'node_modules', '.bin', 'roboflow-local-server');
  const child = spawn(bin, ['--rtsp-port', '8554'], { cwd: userDir, env: { ...process.env, FFMPEG_PATH: ffmpeg }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (text: string) => {
      output.push(text);
      tapOutput('local server', text);
    });
  }
  await eventually(() => output.join('').includes('listening on http://127.0.0.1:9001'), 30_000, `the local server to listen: ${output.join('')}`);
  return {
    child,
    output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** An example as the editor's Import > Examples menu fetches it. */
async function importExample(nodeRed: RunningNodeRed, name: string): Promise<Array<Record<string, unknown>>> {
  const response = await nodeRed.request(`/library/examples/flows/${PACKAGE_NAME}/${encodeURIComponent(name)}`);
  assert.equal(response.status, 200, `the example "${name}" is listed for import`);
  return (await response.json()) as Array<Record<string, unknown>>;
}

const named = (messages: DebugMessage[], name: string): DebugMessage[] => messages.filter((message) => message.name === name);

/**
 * The README's five-minute walkthrough, step by step, as a user who installed from the
 * palette lives it: the packed package in a plain user dir, the local server started
 * from that user dir on the README's ports with the machine's own ffmpeg (Debian's) and
 * with the bundled one, example 01 imported from the Examples menu, the key typed in,
 * deployed; then example 05 beside it. What counts is what the Debug sidebar shows.
 */
describe('system: the README walkthrough, as a palette user lives it', function () {
  this.timeout(300_000);
  let userDir: string;

  before(function () {
    assert.ok(existsSync(DEBIAN_FFMPEG), `Debian's ffmpeg is needed for this test: apt install ffmpeg (.ci/run installs it)`);
    for (const port of [9001, 8554]) {
      const busy = spawnSync(process.execPath, ['-e', `require('net').createServer().once('error',()=>process.exit(1)).listen(${port},'127.0.0.1',function(){this.close()})`]);
      assert.equal(busy.status, 0, `port ${port} is taken: the walkthrough uses the README's ports (stop npm start or the editor test)`);
    }
    userDir = join(mkdtempSync(join(tmpdir(), 'roboflow-walkthrough-')), 'node-red');
    prepareUserDir(userDir);
    installPackedPackage(userDir);
  });

  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved from the package root at run time
  const bundled = (): string => (require(require.resolve('@ffmpeg-installer/ffmpeg', { paths: [ROOT] })) as { path: string }).path;
  for (const [label, ffmpeg] of [
    ["Debian's ffmpeg", () => DEBIAN_FFMPEG],
    ['the bundled ffmpeg', bundled],
  ] as const) {
    it(`with ${label}: example 01 alerts on two visits, example 05 sends a picture with every alert`, async () => {
      // A fresh start each time, as a new user has: no flows, no queued events from before.
      rmSync(join(userDir, 'roboflow'), { recursive: true, force: true });
      rmSync(join(userDir, 'flows.json'), { force: true });
      rmSync(join(userDir, 'flows_cred.json'), { force: true });
      const server = await startReadmeServer(userDir, ffmpeg());
      let nodeRed: RunningNodeRed | undefined;
      let sidebar: Awaited<ReturnType<typeof debugSidebar>> | undefined;
      try {
        assert.match(server.output.join(''), new RegExp(`API key: ${KEY}`), 'step 1 prints the API key to type');
        assert.match(server.output.join(''), /rtsp:\/\/127\.0\.0\.1:8554\/door/, 'and the camera URL');
        nodeRed = await startNodeRed(userDir, { port: await freePort(0) });
        sidebar = await debugSidebar(nodeRed.url);
        // Step 2: import example 01; step 3: the key on its config node; step 4: deploy.
        const example01 = await importExample(nodeRed, '01 - Person at the door alert');
        const withKey = (flow: Array<Record<string, unknown>>): Array<Record<string, unknown>> =>
          flow.map((node) => (node.type === 'roboflow-config' ? { ...node, credentials: { apiKey: KEY } } : node));
        await nodeRed.deploy(withKey(example01));
        const messages = sidebar.messages;
        await eventually(() => named(messages, 'detections').length >= 3, 60_000, 'detections in the Debug sidebar');
        await eventually(() => named(messages, 'notification (stand-in)').length >= 2, 90_000, 'two alerts for two visits');
        // Example 05 beside it: it shares the config node (and so the key).
        const example05 = await importExample(nodeRed, '05 - Door alerts with snapshots');
        const ids = new Set(example01.map((node) => node.id));
        await nodeRed.deploy(withKey([...example01, ...example05.filter((node) => !ids.has(node.id))]));
        const alertsBefore = named(messages, 'alert (replace with a notification)').length;
        await eventually(() => named(messages, 'alert (replace with a notification)').length >= alertsBefore + 2, 90_000, 'two alerts of example 05');
        // Each alert went on to Vision Events (delivered in the background, within seconds).
        const doorEvents = await eventually(
          async () => {
            const events = (await (await fetch('http://127.0.0.1:9001/local/vision-events')).json()) as { events: Array<{ images?: unknown[]; deviceId?: string }> };
            const door = events.events.filter((event) => event.deviceId === 'door-camera');
            return door.length >= 2 && door;
          },
          30_000,
          'two Vision Events from example 05',
        );
        assert.ok(
          doorEvents.every((event) => Array.isArray(event.images) && event.images.length === 1),
          'a picture with every alert',
        );
        const log = nodeRed.output.join('');
        assert.doesNotMatch(log, /\[error\]/, log.slice(-3000));
      } finally {
        sidebar?.close();
        if (nodeRed) await nodeRed.stop();
        await server.stop();
      }
    });
  }
});
