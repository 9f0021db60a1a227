import type { NodeMessage } from 'node-red';
import sharp from 'sharp';
import { Agent, request } from 'undici';
import { percentile, report, round } from '../lib/measure';

/**
 * Single images over HTTP, one mode per run, `count` images of 640x480 JPEG through the
 * local server's lightest workflow (image-stats), after a warm-up:
 * - `node`: the Roboflow Workflow node in Node-RED's runtime (node-red-node-test-helper),
 *   `concurrency` messages in flight (each sender waits for its result, then sends the next);
 * - `plain`: a plain undici loop doing the same requests (a Buffer in, base64 in a JSON
 *   body, the JSON answer parsed) with the same concurrency on a keep-alive Agent;
 * - `serial`: one image at a time, with the two look-up calls per image roboflow-red
 *   makes before each inference (here two GETs of /local/health, same round trips).
 * Latency is per image, from send to result.
 *
 * Usage: single-image.ts <mode> <serverUrl> <apiKey> <count> <concurrency> <warmup>
 */
const [mode, serverUrl, apiKey, countText, concurrencyText, warmupText] = process.argv.slice(2);
const COUNT = Number(countText);
const CONCURRENCY = Number(concurrencyText);
const WARMUP = Number(warmupText);

async function image(): Promise<Buffer> {
  const width = 640;
  const height = 480;
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      rgb[offset] = 40 + ((x * 7 + y * 13) % 24);
      rgb[offset + 1] = 60 + ((x * 3) % 40);
      rgb[offset + 2] = 80 + ((y * 5) % 30);
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** Runs `total` jobs with `concurrency` senders; returns each job's latency (ms) and the wall time. */
async function closedLoop(total: number, concurrency: number, job: () => Promise<void>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        const t0 = performance.now();
        await job();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - begin) / 1000 };
}

async function plain(jpeg: Buffer, serial: boolean): Promise<{ latencies: number[]; seconds: number }> {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });
  const url = `${serverUrl}/bench/workflows/image-stats`;
  const health = `${serverUrl}/local/health`;
  const once = async (): Promise<void> => {
    if (serial) {
      for (let i = 0; i < 2; i++) await (await request(health, { dispatcher: agent })).body.json();
    }
    const response = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: apiKey, inputs: { image: { type: 'base64', value: jpeg.toString('base64') } } }),
    });
    const body = (await response.body.json()) as { outputs?: unknown[] };
    if (response.statusCode !== 200 || !Array.isArray(body.outputs)) throw new Error(`HTTP ${response.statusCode}: ${JSON.stringify(body).slice(0, 200)}`);
  };
  const concurrency = serial ? 1 : CONCURRENCY;
  await closedLoop(WARMUP, concurrency, once);
  const result = await closedLoop(COUNT, concurrency, once);
  await agent.close();
  return result;
}

async function node(jpeg: Buffer): Promise<{ latencies: number[]; seconds: number }> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const helper = require('node-red-node-test-helper') as typeof import('node-red-node-test-helper');
  helper.init(require.resolve('node-red'));
  const modules = [require('../../nodes/node-red/roboflow-config'), require('../../nodes/node-red/roboflow-workflow')];
  /* eslint-enable @typescript-eslint/no-require-imports */
  const flow: Array<{ id: string; type: string; [property: string]: unknown }> = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'cfg', type: 'roboflow-config', name: 'local', serverUrl, apiUrl: serverUrl, version: 1 },
    {
      id: 'wf',
      z: 'tab',
      type: 'roboflow-workflow',
      roboflow: 'cfg',
      workspace: 'bench',
      workspaceType: 'str',
      workflow: 'image-stats',
      workflowType: 'str',
      concurrency: CONCURRENCY,
      queueSize: 100,
      version: 1,
      wires: [['out']],
    },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: ['wf'], wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
  await helper.load(modules, flow, { cfg: { apiKey } });
  const input = helper.getNode('wf');
  const pending = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  helper.getNode('out').on('input', (msg: NodeMessage) => {
    pending.get(String(msg.topic))?.resolve();
    pending.delete(String(msg.topic));
  });
  helper.getNode('caught').on('input', (msg: NodeMessage) => {
    pending.get(String(msg.topic))?.reject(new Error(String((msg as { error?: { message?: string } }).error?.message)));
    pending.delete(String(msg.topic));
  });
  let sequence = 0;
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const topic = String(sequence++);
      pending.set(topic, { resolve, reject });
      input.receive({ payload: jpeg, topic });
    });
  await closedLoop(WARMUP, CONCURRENCY, once);
  const result = await closedLoop(COUNT, CONCURRENCY, once);
  await helper.unload();
  return result;
}

async function main(): Promise<void> {
  const jpeg = await image();
  const { latencies, seconds } = mode === 'node' ? await node(jpeg) : await plain(jpeg, mode === 'serial');
  report({
    mode,
    images: COUNT,
    concurrency: mode === 'serial' ? 1 : CONCURRENCY,
    imageBytes: jpeg.byteLength,
    imagesPerSecond: round(COUNT / seconds, 1),
    latencyMs: { p50: round(percentile(latencies, 50), 2), p95: round(percentile(latencies, 95), 2) },
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
