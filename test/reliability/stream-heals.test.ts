import { strict as assert } from 'node:assert';
import type { NodeMessage, NodeStatus } from 'node-red';
import { API_KEY, eventually, peakConcurrency, startLocalServer, type RunningServer } from '../helpers/local-server';
import { collect, configNode, helper, onTab, recordErrors, recordStatuses, useUserDir, ALL_NODES, type FlowNode } from '../helpers/node-red-helper';

/**
 * Promise 1 of the reliability issue: a live stream heals by itself. The local server
 * drops the peer, restarts, or answers 5xx for a while; the Stream node shows
 * `reconnecting (n)`, results come back, and there are never two sessions at once.
 * An error a retry cannot fix stops it instead.
 */
describe('reliability: live streams heal', function () {
  this.timeout(90_000);
  let server: RunningServer;

  before(async () => {
    useUserDir();
    server = await startLocalServer();
  });
  after(() => server.stop());
  beforeEach(() => server.resetFaults());
  afterEach(async () => {
    await helper.unload();
    await eventually(async () => (await server.sessions()).active.length === 0, 5_000, 'sessions ended on the server after close');
  });

  /** A Stream node on the local server's MJPEG camera (served on the HTTP port, so it survives a restart). */
  async function loadCameraFlow(): Promise<{ results: NodeMessage[]; statuses: NodeStatus[]; errors: Array<{ text: string }> }> {
    const camera = (await server.cameras()).find((c) => c.name === 'door')!;
    const stream: FlowNode = {
      id: 'stream',
      type: 'roboflow-stream',
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
      wires: [['results'], []],
    };
    await helper.load(ALL_NODES, onTab([configNode(server.url), stream, { id: 'results', type: 'helper' }]), { cfg: { apiKey: API_KEY } });
    const node = helper.getNode('stream');
    const live = { results: collect(helper.getNode('results')), statuses: recordStatuses(node), errors: recordErrors(node) };
    await eventually(() => live.results.length >= 3, 20_000, 'first results');
    return live;
  }

  const sawStatus = (statuses: NodeStatus[], text: RegExp): boolean => statuses.some((status) => text.test(status.text ?? ''));

  it('the server drops the peer: reconnecting (1), then results again; never two sessions at once', async () => {
    const { results, statuses } = await loadCameraFlow();
    await server.faults({ dropAfterFrames: 1 });
    await eventually(() => sawStatus(statuses, /^reconnecting \(1\)$/), 20_000, 'reconnecting (1)');
    await server.resetFaults();
    const before = results.length;
    await eventually(() => results.length >= before + 5, 30_000, 'results after the reconnect');
    await eventually(() => sawStatus(statuses.slice(-3), /^streaming/), 5_000, 'streaming again');
    const sessions = await server.sessions();
    assert.ok(sessions.started >= 2, 'a new session replaced the dropped one');
    assert.equal(peakConcurrency(sessions), 1, 'never two sessions at once');
  });

  it('the server restarts: the node keeps retrying while it is down and streams again once it is back', async () => {
    const { results, statuses } = await loadCameraFlow();
    await server.restart(3_000);
    await eventually(() => sawStatus(statuses, /^reconnecting \(\d+\)$/), 10_000, 'reconnecting while the server is down');
    const before = results.length;
    await eventually(() => results.length >= before + 5, 45_000, 'results after the restart');
    const sessions = await server.sessions();
    assert.equal(sessions.active.length, 1);
    assert.equal(peakConcurrency(sessions), 1, 'the restarted server never saw two sessions');
  });

  it('5xx answers for a while: retried with backoff until the service is back', async () => {
    const { results, statuses } = await loadCameraFlow();
    await server.faults({ failNext: { initialise_webrtc_worker: { status: 503, count: 6 } } });
    await server.json('/local/sessions', { method: 'DELETE' });
    await eventually(() => sawStatus(statuses, /^reconnecting \(2\)$/), 30_000, 'reconnecting (2): the first retry met a 503 too');
    const before = results.length;
    await eventually(() => results.length >= before + 5, 60_000, 'results once the 503s are over');
    const faults = await server.json<{ failNext: Record<string, unknown> }>('/local/faults');
    assert.deepEqual(faults.failNext, {}, 'every 503 was met: the node kept asking');
    assert.equal(peakConcurrency(await server.sessions()), 1);
  });

  it('a key revoked while streaming stops the node with a clear error, not a retry loop', async () => {
    const { statuses, errors } = await loadCameraFlow();
    await server.faults({ rejectKey: true });
    await server.json('/local/sessions', { method: 'DELETE' });
    await eventually(() => statuses.some((status) => status.fill === 'red' && (status.text ?? '').includes('API key rejected (401)')), 20_000, 'red 401 status');
    assert.ok(errors.some((error) => error.text.includes('check the API key')));
    const started = (await server.sessions()).started;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal((await server.sessions()).started, started, 'no new session after the 401');
    assert.doesNotMatch(JSON.stringify([statuses, errors]), new RegExp(API_KEY));
  });
});
