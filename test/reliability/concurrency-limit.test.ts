import { strict as assert } from 'node:assert';
import type { NodeMessage, NodeStatus } from 'node-red';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { collect, configNode, helper, onTab, recordStatuses, useUserDir, ALL_NODES, type FlowNode } from '../helpers/node-red-helper';

/**
 * Promise 3 of the reliability issue: a workspace runs at most ten streams. Eleven Stream
 * nodes on one workspace, with the local server at its default limit (10, as Roboflow's
 * service): the eleventh gets the server's 429, says so on its status and retries slowly
 * (never sooner than 30 s), while the other ten keep streaming; once a slot frees it
 * takes it.
 */
describe('reliability: the workspace stream limit', function () {
  this.timeout(150_000);
  const STREAMS = 11;
  let server: RunningServer;

  before(async () => {
    useUserDir();
    // The light 320x240 camera: eleven sessions each decode it on the server.
    server = await startLocalServer(['--cameras', 'two-squares']);
  });
  after(() => server.stop());
  afterEach(async () => {
    await helper.unload();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'sessions ended on the server after close');
  });

  it('the 11th stream says "workspace stream limit reached (10)" and retries slowly; the other ten keep streaming', async () => {
    assert.equal((await server.json<{ streamLimit: number }>('/local/faults')).streamLimit, 10, 'the local server runs the real limit');
    const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
    const ids = Array.from({ length: STREAMS }, (_, i) => `stream${i + 1}`);
    const nodes: FlowNode[] = [configNode(server.url)];
    for (const id of ids) {
      nodes.push({
        id,
        type: 'roboflow-stream',
        name: id,
        roboflow: 'cfg',
        workspace: 'demo',
        workspaceType: 'str',
        workflow: 'detect-colors',
        workflowType: 'str',
        dataOutputs: 'count',
        streamOutputs: '',
        source: 'mjpeg',
        url: camera.mjpeg_url,
        urlType: 'str',
        start: 'deploy',
        version: 1,
        wires: [[`${id}-out`], []],
      });
      nodes.push({ id: `${id}-out`, type: 'helper' });
    }
    await helper.load(ALL_NODES, onTab(nodes), { cfg: { apiKey: API_KEY } });
    const results = new Map<string, NodeMessage[]>(ids.map((id) => [id, collect(helper.getNode(`${id}-out`))]));
    const statuses = new Map<string, NodeStatus[]>(ids.map((id) => [id, recordStatuses(helper.getNode(id))]));
    const limitText = /^workspace stream limit reached \(10\), retrying \((\d+)\)$/;
    const limited = (): string[] => ids.filter((id) => statuses.get(id)!.some((status) => limitText.test(status.text ?? '')));

    await eventually(() => limited().length === 1, 60_000, 'one node names the stream limit').catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; last statuses: ${JSON.stringify(ids.map((id) => [id, statuses.get(id)!.at(-1)?.text]))}`);
    });
    const [eleventh] = limited();
    const streaming = ids.filter((id) => id !== eleventh);
    await eventually(() => streaming.every((id) => results.get(id)!.length >= 3), 60_000, 'the other ten stream');
    assert.equal((await server.sessions()).active.length, 10, 'ten sessions on the server');
    const lastStatus = statuses.get(eleventh)!.at(-1)!;
    assert.equal(lastStatus.fill, 'yellow', `the limited node is waiting, not failed: ${JSON.stringify(lastStatus)}`);
    assert.equal(results.get(eleventh)!.length, 0, 'the 11th has no results');

    // Ten seconds later: the ten are still delivering and the 11th has not asked again.
    const counts = new Map(streaming.map((id) => [id, results.get(id)!.length]));
    const attemptsBefore = await server.requestCount('initialise_webrtc_worker');
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    for (const id of streaming) assert.ok(results.get(id)!.length > counts.get(id)!, `${id} kept streaming while the 11th waited`);
    assert.equal(await server.requestCount('initialise_webrtc_worker'), attemptsBefore, 'no retry within 10 s of a 429 (slow retry)');
    assert.match(statuses.get(eleventh)!.at(-1)!.text ?? '', /retrying \(1\)$/);

    // A slot frees: the 11th takes it on its next (slow) retry and streams.
    helper.getNode(streaming[0]).receive({ topic: 'stop' });
    await eventually(() => results.get(eleventh)!.length >= 3, 60_000, 'the 11th streams once a slot is free');
    const sessions = await server.sessions();
    assert.equal(sessions.active.length, 10, 'still ten at once');
    assert.ok(statuses.get(eleventh)!.at(-1)!.text?.startsWith('streaming'), 'the 11th shows streaming');
  });
});
