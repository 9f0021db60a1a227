import { Agent, request } from 'undici';
import { PipelineClient, PipelineStream, type RoboflowConnection } from '../../lib';
import { cpuSeconds, report, round, sleep } from '../lib/measure';

/**
 * A self-hosted InferencePipeline read over HTTP, one mode per run, for `seconds` after a
 * warm-up, on the local server's door camera (device 0) and its detect-colors workflow:
 * - `ours`: the engine's PipelineStream (what the Stream node and the n8n trigger run),
 *   polling every 200 ms and taking everything buffered;
 * - `plain`: the same pipeline started the same way, read by a plain undici loop that does
 *   the same: every 200 ms, `GET …/consume` until nothing is waiting, JSON parsed.
 * Both count results and this process's CPU time; the server's rate sets the pace, so the
 * figures that matter are results delivered (nothing lost) and CPU per result.
 *
 * Usage: pipeline.ts <mode> <serverUrl> <apiKey> <seconds> <warmupMs>
 */
const [mode, serverUrl, apiKey, secondsText, warmupText] = process.argv.slice(2);
const SECONDS = Number(secondsText);
const WARMUP_MS = Number(warmupText);
const POLL_MS = 200;
const connection: RoboflowConnection = { apiKey, serverUrl, apiUrl: serverUrl };
const workflow = { workspace: 'bench', workflowId: 'detect-colors' };

interface Counted {
  results: number;
  cpu: number;
  seconds: number;
}

/** Counts what `onResult` is called for between the end of the warm-up and the end of the run. */
async function measured(start: (onResult: () => void) => Promise<() => Promise<void>>): Promise<Counted> {
  let counting = false;
  let results = 0;
  const stop = await start(() => {
    if (counting) results++;
  });
  await sleep(WARMUP_MS);
  counting = true;
  const cpuFrom = process.cpuUsage();
  const from = performance.now();
  await sleep(SECONDS * 1000);
  counting = false;
  const counted = { results, cpu: cpuSeconds(cpuFrom), seconds: (performance.now() - from) / 1000 };
  await stop();
  return counted;
}

async function ours(): Promise<Counted> {
  return measured(async (onResult) => {
    const stream = new PipelineStream({ connection, workflow, source: { kind: 'device', index: 0 }, pollIntervalMs: POLL_MS, statsIntervalMs: 0 });
    stream.on('result', onResult);
    stream.start();
    return () => stream.stop();
  });
}

async function plain(): Promise<Counted> {
  const client = new PipelineClient({ connection });
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const id = await client.initialise({ workflow, source: { kind: 'device', index: 0 }, consumptionTimeout: 300 });
  let running = true;
  return measured(async (onResult) => {
    const loop = (async (): Promise<void> => {
      while (running) {
        for (;;) {
          const response = await request(`${serverUrl}/inference_pipelines/${id}/consume`, { dispatcher: agent });
          const body = (await response.body.json()) as { outputs?: unknown[] };
          const taken = Array.isArray(body.outputs) ? body.outputs.length : 0;
          for (let index = 0; index < taken; index++) onResult();
          if (taken === 0) break;
        }
        await sleep(POLL_MS);
      }
    })();
    return async () => {
      running = false;
      await loop;
      await client.terminate(id);
      await client.close();
      await agent.close();
    };
  });
}

async function main(): Promise<void> {
  const counted = mode === 'ours' ? await ours() : await plain();
  report({ results: counted.results, resultsPerSecond: round(counted.results / counted.seconds), cpuSecondsPer1000Results: round((counted.cpu / Math.max(1, counted.results)) * 1000, 3) });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
