import { resolveConnection, StreamSession, silentLogger } from '../../lib';
import { report, round } from '../lib/measure';

/**
 * The bare engine's result rate for a video file with realtime off (every frame,
 * ack-paced), first result to last: the reference for the Stream node's overhead.
 *
 * Usage: file-rate.ts <serverUrl> <apiKey> <file>
 */
const [serverUrl, apiKey, file] = process.argv.slice(2);

async function main(): Promise<void> {
  const session = new StreamSession({
    connection: resolveConnection({ apiKey, serverUrl, apiUrl: serverUrl }),
    workflow: { workspace: 'bench', workflowId: 'image-stats' },
    source: { kind: 'file', path: file },
    dataOutputs: ['brightness'],
    realtime: false,
    logger: silentLogger,
  });
  let results = 0;
  let first = 0;
  let last = 0;
  const complete = new Promise<void>((resolve) => session.on('complete', () => resolve()));
  session.on('result', () => {
    last = performance.now();
    if (results++ === 0) first = last;
  });
  await session.start();
  await complete;
  await session.stop();
  report({ results, seconds: round((last - first) / 1000, 2), resultsPerSecond: round((results - 1) / ((last - first) / 1000), 1) });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
