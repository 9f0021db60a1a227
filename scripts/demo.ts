/**
 * `npm start`: the local Roboflow-compatible server (with simulated cameras) and a real
 * Node-RED with this package installed and the example flows deployed against it.
 * Everything runs on loopback; no Roboflow account or credits are used.
 *
 *   npm start               first run deploys the examples; later runs keep your edits
 *   npm start -- --reset    deploy the examples again
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalServer } from '../server/app';
import { REPO_ROOT, examplesFor, freePort, prepareUserDir, startNodeRed } from './lib/node-red-process';

const API_KEY = 'local-dev-key';
const USER_DIR = join(REPO_ROOT, '.node-red');

async function main(): Promise<void> {
  const reset = process.argv.includes('--reset');
  if (reset) rmSync(join(USER_DIR, 'flows.json'), { force: true });
  const firstRun = !existsSync(join(USER_DIR, 'flows.json')) || readFileSync(join(USER_DIR, 'flows.json'), 'utf8').trim() === '[]';

  console.log('Starting the local Roboflow-compatible server...');
  const server = await createLocalServer({
    port: await freePort(9001),
    rtspPort: await freePort(8554),
    apiKey: API_KEY,
    dataDir: join(USER_DIR, 'local-server'),
    log: (line) => {
      if (process.env.DEBUG) console.error(`[local-server] ${line}`);
    },
  });
  const rtspPort = server.rtsp?.port;
  const demoVideo = server.cameraFiles.get('door') ?? '';

  prepareUserDir(USER_DIR, { linkRepository: true });
  console.log('Starting Node-RED (log: .node-red/node-red.log)...');
  const nodeRed = await startNodeRed(USER_DIR, {
    port: await freePort(1880),
    env: { ROBOFLOW_DEMO_VIDEO: demoVideo },
    logFile: join(USER_DIR, 'node-red.log'),
  });
  if (firstRun) {
    await nodeRed.deploy(examplesFor({ url: server.url, rtspPort, apiKey: API_KEY }));
    console.log('Deployed the example flows.');
  } else {
    console.log('Kept your flows (npm start -- --reset deploys the examples again).');
  }

  console.log(`
  Node-RED editor:    ${nodeRed.url}
  Local server:       ${server.url}   (API key "${API_KEY}"; workflows: ${server.url}/local/workflows)
  Simulated camera:   rtsp://127.0.0.1:${rtspPort}/door   ${server.url}/local/cameras/door.mjpeg
  Open the editor and the Debug sidebar: detections arrive within seconds.
  Ctrl-C stops everything.
`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping...');
    await nodeRed.stop();
    await server.close();
    // Exit explicitly: the WebRTC native module can crash during natural teardown.
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  nodeRed.process.once('exit', (code) => {
    if (stopping) return;
    console.error(`Node-RED exited (${code}); see .node-red/node-red.log`);
    void server.close().then(() => process.exit(1));
  });
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${(error as Error).message}`);
  process.exit(1);
});
