import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEvent, EventOutbox, resolveConnection, VisionEventsClient } from '../../lib';
import { report, round } from '../lib/measure';

/**
 * Vision Events sustained into the local server through the durable outbox the Node-RED
 * node uses (queue on disk, batches of up to 100): `count` events offered at `rate` per
 * second (0 = as fast as they can be queued), timed until the last one is delivered.
 *
 * The queue's bound (10,000) is never reached at the rates offered; `dropped` says so.
 *
 * Usage: events.ts <serverUrl> <apiKey> <count> <rate>
 */
const [serverUrl, apiKey, countText, rateText] = process.argv.slice(2);
const COUNT = Number(countText);
const RATE = Number(rateText);

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'roboflow-bench-events-'));
  const client = new VisionEventsClient({ connection: resolveConnection({ apiKey, serverUrl, apiUrl: serverUrl }) });
  const outbox = await EventOutbox.open({ client, directory });
  let requests = 0;
  outbox.on('sent', (sent) => (requests += sent.requests));
  const started = performance.now();
  const pending: Array<Promise<void>> = [];
  let dropped = 0;
  outbox.on('dropped', (event) => (dropped += event.eventIds.length));
  // Offered in 10 ms ticks at RATE per second (0: as fast as they queue).
  for (let i = 0; i < COUNT;) {
    const due = RATE > 0 ? Math.min(COUNT, Math.floor(((performance.now() - started) / 1000) * RATE) + 1) : Math.min(COUNT, i + 100);
    for (; i < due; i++) {
      const event = buildEvent({ useCaseId: 'demo', eventType: 'custom', deviceId: 'bench', eventData: { n: i }, customMetadata: { camera: 'bench', zone: 'door' } });
      pending.push(outbox.enqueue(event));
    }
    await new Promise((resolve) => (RATE > 0 ? setTimeout(resolve, 10) : setImmediate(resolve)));
  }
  await Promise.all(pending);
  await outbox.drained(120_000);
  const seconds = (performance.now() - started) / 1000;
  await outbox.close({ discard: true });
  await client.close?.();
  rmSync(directory, { recursive: true, force: true });
  report({
    events: COUNT,
    offeredPerSecond: RATE || null,
    seconds: round(seconds, 2),
    eventsPerSecond: round(COUNT / seconds, 0),
    requests,
    dropped,
    requestsPer100Events: round((requests / COUNT) * 100, 2),
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
