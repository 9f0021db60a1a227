#!/usr/bin/env node
// `npm start`: the local Roboflow-compatible server with its simulated cameras, and the
// engine streaming the "door" camera through a workflow, printing what it sees.
// Everything runs on loopback; no Roboflow account or credits are used.
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

const require = createRequire(import.meta.url);
const { createLocalServer } = require('../dist/server/app.js');
const { ResilientStream, resolveConnection } = require('../dist/lib/index.js');

const API_KEY = process.env.ROBOFLOW_LOCAL_KEY ?? 'local-dev-key';

/** The wanted port if free, else any free port. */
function freePort(wanted) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(wanted, '127.0.0.1', () => probe.close(() => resolve(wanted)));
  });
}

const server = await createLocalServer({
  port: await freePort(Number(process.env.PORT ?? 9001)),
  rtspPort: await freePort(8554),
  apiKey: API_KEY,
  log: (line) => process.env.DEBUG && console.error(`[local-server] ${line}`),
});
const camera = server.rtsp.url('door', false);
console.log(`Local Roboflow-compatible server: ${server.url}  (API key: the demo key "${API_KEY}")`);
console.log(`Simulated cameras: ${camera}, ${server.url}/local/cameras/door.mjpeg`);
console.log(`Workflows: ${server.url}/local/workflows`);
console.log('Streaming the door camera through the "track-colors" workflow (red shapes are labelled "person")...\n');

const stream = new ResilientStream({
  connection: resolveConnection({ apiKey: API_KEY, serverUrl: server.url, apiUrl: server.url }),
  workflow: { workspace: 'demo', workflowId: 'track-colors' },
  parameters: { class_names: { red: 'person', green: 'door' } },
  source: { kind: 'rtsp', url: camera },
  dataOutputs: ['predictions', 'count'],
});

const present = new Map();
let lastLine = 0;
stream.on('state', (state) => console.log(`stream: ${state}`));
stream.on('reconnecting', ({ attempt, delayMs, error }) => console.log(`reconnecting (${attempt}) in ${delayMs} ms: ${error.message}`));
stream.on('error', (error) => console.error(`error: ${error.message}`));
stream.on('result', ({ frameId, data }) => {
  const predictions = data?.predictions?.predictions ?? [];
  const seen = new Set();
  for (const p of predictions.filter((p) => p.class === 'person')) {
    seen.add(p.tracker_id);
    if (!present.has(p.tracker_id)) console.log(`frame ${frameId}: person #${p.tracker_id} appeared at (${p.x}, ${p.y})`);
    present.set(p.tracker_id, p);
  }
  for (const id of [...present.keys()]) {
    if (!seen.has(id)) {
      console.log(`frame ${frameId}: person #${id} left`);
      present.delete(id);
    }
  }
  if (Date.now() - lastLine > 2_000) {
    lastLine = Date.now();
    console.log(`frame ${frameId}: ${data?.count ?? 0} objects: ${predictions.map((p) => `${p.class}${p.tracker_id ? `#${p.tracker_id}` : ''}@(${p.x},${p.y})`).join(' ')}`);
  }
});
stream.start();

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping...');
  await stream.stop();
  await server.close();
  // Exit explicitly: the WebRTC native module can crash during natural teardown.
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
console.log('Press Ctrl-C to stop.\n');
