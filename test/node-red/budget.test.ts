import { strict as assert } from 'node:assert';
import type { EventEmitter } from 'node:events';
import type { RoboflowConfigNode } from '../../nodes/node-red/common/config';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { ALL_NODES, collect, configNode, helper, onTab, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';

/** A clock the test moves (Node-RED's settings.roboflowClock), starting late in the evening. */
let now = new Date(2026, 10, 30, 23, 40, 0).getTime();
const clock = (): Date => new Date(now);

describe('Node-RED: a daily stream budget on the Roboflow config (never surprised by the bill)', function () {
  this.timeout(60_000);
  let server: RunningServer;

  before(async () => {
    useUserDir();
    // Node-RED's settings carry the test clock (settings.roboflowClock) to the config node.
    const settings: Record<string, unknown> = { ...(helper as unknown as { _settings?: object })._settings, roboflowClock: clock };
    helper.settings(settings);
    server = await startLocalServer(['--rtsp-port', '0']);
  });
  after(async () => {
    await server.stop();
  });
  afterEach(async () => {
    await helper.unload();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left');
  });

  const streamNode = (id: string, url: string): FlowNode => ({
    id,
    type: 'roboflow-stream',
    roboflow: 'cfg',
    workspace: 'demo',
    workspaceType: 'str',
    workflow: 'detect-colors',
    workflowType: 'str',
    workflowSpec: '',
    imageInput: 'image',
    dataOutputs: 'count',
    streamOutputs: '',
    parameters: '',
    source: 'rtsp',
    url,
    urlType: 'str',
    realtime: '',
    start: 'deploy',
    capture: 'server',
    gate: 'none',
    version: 3,
    wires: [[`${id}-out`], []],
  });
  const flow = async (limit: number, creditMinutes = ''): Promise<FlowNode[]> => {
    const url = (await server.cameras()).find((camera) => camera.name === 'two-squares')!.rtsp_url!;
    return onTab([
      { ...configNode(server.url), budgetLimit: limit, budgetUnit: 'minutes', creditMinutes, version: 2 },
      streamNode('door', url),
      streamNode('yard', url),
      { id: 'door-out', type: 'helper' },
      { id: 'yard-out', type: 'helper' },
    ]);
  };
  const budgetOf = (): ReturnType<RoboflowConfigNode['budget']> => (helper.getNode('cfg') as unknown as RoboflowConfigNode).budget();

  it('two streams share the limit: a warning at 80 %, both stop at the limit ("daily budget reached"), both start again after midnight', async () => {
    await helper.load(ALL_NODES, await flow(10), { cfg: { apiKey: API_KEY } });
    const config = helper.getNode('cfg');
    const configWarnings: string[] = [];
    (config as unknown as EventEmitter).on('call:warn', (call: { args: [string] }) => configWarnings.push(String(call.args[0])));
    const statuses = { door: recordStatuses(helper.getNode('door')), yard: recordStatuses(helper.getNode('yard')) };
    await eventually(async () => (await server.sessions()).active.length === 2, 15_000, 'both streaming');
    await eventually(() => statuses.door.some((s) => s.text?.startsWith('streaming')) && statuses.yard.some((s) => s.text?.startsWith('streaming')), 10_000, 'both live');
    const budget = budgetOf();

    now += 4 * 60_000; // 8 minutes streamed: 80 %
    await budget.tick();
    assert.equal(configWarnings.filter((w) => w.includes('used 8 of their 10 minutes')).length, 1, configWarnings.join(' | '));

    now += 1.5 * 60_000; // 11 minutes: past the limit
    await budget.tick();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'both sessions ended at the limit');
    for (const id of ['door', 'yard'] as const) {
      await eventually(() => statuses[id].some((s) => s.text === 'daily budget reached (10 min)'), 5_000, `${id}: the budget on its status`);
    }
    assert.ok(configWarnings.some((w) => w.includes('Daily stream budget reached (10 min)')));

    // A stop message, a start message while the budget is reached: nothing starts.
    helper.getNode('door').receive({ topic: 'start' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal((await server.sessions()).active.length, 0, 'no session while the budget is reached');

    now += 20 * 60_000; // 00:05 the next day
    await budget.tick();
    await eventually(async () => (await server.sessions()).active.length === 2, 15_000, 'both streaming again after midnight');
    assert.ok(budget.usedMinutes() < 1, `a new day: ${budget.usedMinutes()} minutes`);
  });

  it('survives a restart with the minutes already spent today; stats report minutes and estimated credits per node', async () => {
    now = new Date(2026, 11, 2, 9, 0, 0).getTime();
    await helper.load(ALL_NODES, await flow(60), { cfg: { apiKey: API_KEY } });
    await eventually(async () => (await server.sessions()).active.length === 2, 15_000, 'both streaming');
    await eventually(() => (budgetOf() as unknown as { runningSince: Map<string, number> }).runningSince.size === 2, 10_000, 'both counted');
    now += 10 * 60_000;
    await budgetOf().tick();
    const out = collect(helper.getNode('door-out'));
    helper.getNode('door').receive({ topic: 'stats' });
    const stats = await eventually(() => out.find((msg) => msg.topic === 'stats'), 5_000, 'stats');
    const payload = stats.payload as { minutesToday: number; estimatedCredits: number };
    assert.equal(payload.minutesToday, 10);
    assert.equal(payload.estimatedCredits, Math.round((10 / 80) * 100) / 100, 'the small plan: 80 stream minutes a credit');
    await helper.unload();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'stopped');
    // Restarted with a rate of its own ("Minutes per credit" 40): the estimate uses it.
    await helper.load(ALL_NODES, await flow(60, '40'), { cfg: { apiKey: API_KEY } });
    await eventually(() => budgetOf().usedMinutes() >= 20, 5_000, 'the minutes spent before the restart');
    const after = collect(helper.getNode('door-out'));
    helper.getNode('door').receive({ topic: 'stats' });
    const restarted = (await eventually(() => after.find((msg) => msg.topic === 'stats'), 5_000, 'stats after the restart')).payload as { minutesToday: number; estimatedCredits: number };
    assert.equal(restarted.minutesToday, 10, 'the minutes this node spent before the restart');
    assert.equal(restarted.estimatedCredits, 0.25, "the config's own rate: 10 minutes at 40 a credit");
  });
});
