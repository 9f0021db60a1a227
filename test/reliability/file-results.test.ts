import { strict as assert } from 'node:assert';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { configNode, helper, onTab, recordErrors, useUserDir, ALL_NODES } from '../helpers/node-red-helper';

/**
 * Promise 4 of the reliability issue: with realtime off, a file of N frames gives exactly
 * N results, in order, then `complete`, even when the flow downstream is slow. The Stream
 * node acknowledges a frame only once its message reached the next node, so the server
 * waits (ack pacing) instead of results piling up in the flow: at any moment the server
 * is at most a few frames ahead of what the flow has handled, which bounds memory.
 */
describe('reliability: file results are complete with a slow flow', function () {
  this.timeout(120_000);
  const BUSY_MS = 25;
  let server: RunningServer;

  /** A downstream node that blocks the event loop for BUSY_MS per message, as heavy synchronous work in a Function node does. */
  const received: NodeMessage[] = [];
  function slowNodeModule(RED: NodeAPI): void {
    RED.nodes.registerType('slow-consumer', function (this: Node, config: NodeDef) {
      RED.nodes.createNode(this, config);
      this.on('input', (msg: NodeMessage) => {
        const until = Date.now() + BUSY_MS;
        while (Date.now() < until) {
          // Busy: the whole process waits, as it would for a CPU-heavy Function node.
        }
        received.push(msg);
      });
    });
  }

  before(async () => {
    useUserDir();
    server = await startLocalServer();
  });
  after(() => server.stop());
  afterEach(() => helper.unload());

  it('N frames give N results in order, then complete; the server never runs ahead of the flow', async () => {
    const file = await sceneVideo('two-squares', { loops: 5 });
    const frames = 5 * 30;
    const { ackWindow } = await server.json<{ ackWindow: number }>('/local/faults');
    await helper.load(
      [...ALL_NODES, slowNodeModule],
      onTab([
        configNode(server.url),
        {
          id: 'stream',
          type: 'roboflow-stream',
          roboflow: 'cfg',
          workspace: 'demo',
          workspaceType: 'str',
          workflow: 'detect-colors',
          workflowType: 'str',
          dataOutputs: 'count',
          streamOutputs: '',
          source: 'file',
          url: file,
          urlType: 'str',
          start: 'deploy',
          realtime: false,
          version: 1,
          wires: [['slow'], []],
        },
        { id: 'slow', type: 'slow-consumer' },
      ]),
      { cfg: { apiKey: API_KEY } },
    );
    const errors = recordErrors(helper.getNode('stream'));

    // Watch how far the server gets ahead of the flow while the file streams. Pacing starts
    // with the client's first ack (as on the hosted server): frames the server ran through
    // before that are a start-up burst, not a breach; from the first sample where the
    // server is within its ack window, the window must hold until the end.
    let maxAhead = 0;
    let maxAckedAhead = Number.NEGATIVE_INFINITY;
    let burst = 0;
    let paced = false;
    let samples = 0;
    const watching = (async () => {
      while (!received.some((msg) => (msg as { complete?: boolean }).complete)) {
        const session = (await server.sessions()).active[0];
        // Counted after the server answered: the flow only gains meanwhile, so this never
        // overstates how far ahead the server was when it counted.
        const handled = received.length;
        if (session) {
          maxAckedAhead = Math.max(maxAckedAhead, session.framesAcknowledged - handled);
          if (!paced && session.framesAcknowledged > 0 && session.framesProcessed <= session.framesAcknowledged + ackWindow) paced = true;
          if (paced) {
            maxAhead = Math.max(maxAhead, session.framesProcessed - handled);
            samples++;
          } else {
            burst = Math.max(burst, session.framesProcessed);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await eventually(() => received.some((msg) => (msg as { complete?: boolean }).complete), 90_000, 'the complete message');
    await watching;

    const results = received.filter((msg) => !(msg as { complete?: boolean }).complete);
    assert.equal(results.length, frames, 'exactly one result per frame');
    assert.deepEqual(
      results.map((msg) => (msg as { frame?: { frame_id?: number } }).frame?.frame_id),
      Array.from({ length: frames }, (_, i) => i + 1),
      'in frame order',
    );
    assert.ok((received.at(-1) as { complete?: boolean }).complete, 'complete comes last');
    assert.deepEqual(received.at(-1)!.payload, { frames, terminationReason: null });
    assert.deepEqual(errors, []);
    assert.ok(samples >= 20, `the server was watched while paced (${samples} samples; start-up burst ${burst} frames)`);
    // The node acknowledges a frame only after the slow node returned from it.
    assert.ok(maxAckedAhead <= 0, `no frame was acknowledged before the flow handled it (ack ran ${maxAckedAhead} ahead)`);
    // The server processes frame n + 1 only when n + 1 <= last ack + ackWindow: once paced it
    // is at most ackWindow frames past the last ack, hence past what the flow has handled.
    assert.ok(maxAhead <= ackWindow, `the server stayed at most ${ackWindow} frame(s) ahead of the flow (was ${maxAhead})`);
  });
});
