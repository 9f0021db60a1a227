import { strict as assert } from 'node:assert';
import type { EventEmitter } from 'node:events';
import type { NodeMessage, NodeStatus } from 'node-red';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { collect, configNode, helper, onTab, recordStatuses, useUserDir, ALL_NODES } from '../helpers/node-red-helper';

/** How long the API is down: a minute with ROBOFLOW_SOAK=1, five seconds otherwise. */
const OUTAGE_MS = process.env.ROBOFLOW_SOAK === '1' ? 60_000 : 5_000;

/**
 * Promise 6 of the reliability issue: the Vision Events API is down (the server is gone:
 * connections refused) while events keep coming; once it is back every event arrives
 * exactly once, in order, with the id the node gave it. The node says why it waits, on
 * its status and once in the log.
 */
describe(`reliability: Vision Events survive a ${OUTAGE_MS / 1000} s outage`, function () {
  this.timeout(OUTAGE_MS + 150_000);
  let server: RunningServer;

  before(async () => {
    useUserDir();
    server = await startLocalServer(['--cameras', '']);
  });
  after(() => server.stop());
  afterEach(() => helper.unload());

  it('events sent while the API is down all arrive once it is back, once each and in order', async () => {
    await helper.load(
      ALL_NODES,
      onTab([
        configNode(server.url),
        {
          id: 'event',
          type: 'roboflow-vision-event',
          roboflow: 'cfg',
          useCase: 'demo',
          useCaseType: 'str',
          createUseCase: false,
          eventType: 'custom',
          deviceId: 'outage',
          streamId: '',
          cooldown: 0,
          version: 1,
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ]),
      { cfg: { apiKey: API_KEY } },
    );
    const node = helper.getNode('event');
    const out: NodeMessage[] = collect(helper.getNode('out'));
    const statuses: NodeStatus[] = recordStatuses(node);
    const warnings: string[] = [];
    (node as unknown as EventEmitter).on('call:warn', (call: { args: [unknown] }) => warnings.push(String(call.args[0])));

    // One event before: the node works. Then the server goes away for OUTAGE_MS and
    // events keep coming, four a second; the restarted server starts empty.
    node.receive({ payload: { n: 0 } });
    await eventually(() => statuses.some((status) => status.text === 'sent 1'), 10_000, 'the first event delivered');
    const down = server.restart(OUTAGE_MS);
    await new Promise((resolve) => setTimeout(resolve, 500));
    let sent = 1;
    const started = Date.now();
    while (Date.now() - started < OUTAGE_MS - 1_000) {
      node.receive({ payload: { n: sent++ } });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await eventually(() => statuses.some((status) => status.fill === 'yellow' && /retrying \(\d+ queued\)/.test(status.text ?? '')), 10_000, 'retrying (n queued) during the outage');
    await down;

    await eventually(() => out.length === sent, 10_000, 'every message passed on');
    const ids = out.slice(1).map((msg) => msg.eventId as string);
    const stored = async (): Promise<string[]> =>
      (await server.json<{ events: Array<{ eventId: string; deviceId?: string }> }>('/local/vision-events')).events.filter((event) => event.deviceId === 'outage').map((event) => event.eventId);
    // Backoff is capped at 60 s: the first retry after the outage comes within that.
    await eventually(async () => (await stored()).length >= ids.length, 90_000, `all ${ids.length} events of the outage delivered`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.deepEqual(await stored(), ids, 'each event exactly once, in the order sent, with its id');
    await eventually(() => statuses.at(-1)?.text === `sent ${sent}`, 5_000, `status "sent ${sent}"`);
    const stalls = warnings.filter((warning) => warning.includes('Vision Events not reachable'));
    assert.equal(stalls.length, 1, `one warning for the outage, not one per retry: ${JSON.stringify(warnings)}`);
  });
});
