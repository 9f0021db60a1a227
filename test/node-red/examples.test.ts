import { strict as assert } from 'node:assert';
import type { NodeMessage } from 'node-red';
import { examplesFor } from '../../scripts/lib/node-red-process';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { ALL_NODES, collect, helper, useUserDir, type FlowNode, type NodeModule } from '../helpers/node-red-helper';

// The core nodes the examples use besides ours (the test helper brings only Catch, Status and Complete).
/* eslint-disable @typescript-eslint/no-require-imports */
const CORE_NODES = [require('@node-red/nodes/core/common/90-comment.js') as NodeModule, require('@node-red/nodes/core/function/89-delay.js') as NodeModule];
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The examples as shipped (only the local server's ports rewritten), with the debug nodes
 * a user watches replaced by test probes of the same id: what the Debug sidebar would show.
 */
async function exampleWithProbes(server: RunningServer, file: string, probes: string[]): Promise<{ flow: FlowNode[]; credentials: Record<string, Record<string, string>> }> {
  const credentials: Record<string, Record<string, string>> = {};
  // The server's RTSP port, from the server itself (its log line may come after "listening" on a busy machine).
  const door = (await server.cameras()).find((camera) => camera.name === 'door')?.rtsp_url;
  assert.ok(door, 'the local server serves the door camera over RTSP');
  const flow = examplesFor({ url: server.url, rtspPort: Number(new URL(door).port), apiKey: API_KEY }, [file]).map((node) => {
    if (node.type === 'roboflow-config') {
      credentials[String(node.id)] = node.credentials as Record<string, string>;
      const { credentials: _omitted, ...rest } = node;
      return rest as FlowNode;
    }
    // Every debug node becomes a probe: what the Debug sidebar would show.
    if (probes.includes(String(node.id)) || node.type === 'debug') return { id: String(node.id), z: node.z, type: 'helper' };
    return node as FlowNode;
  });
  return { flow, credentials };
}

describe('Node-RED: the examples do what the README promises', function () {
  this.timeout(90_000);
  let server: RunningServer;

  before(async () => {
    useUserDir();
    server = await startLocalServer(['--rtsp-port', '0']);
  });
  after(async () => {
    await server.stop();
  });
  afterEach(async () => {
    await helper.unload();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left');
  });

  it('01 Person at the door: one alert each time the person arrives (three visits, three alerts)', async function () {
    this.timeout(120_000);
    const { flow, credentials } = await exampleWithProbes(server, '01 - Person at the door alert.json', ['ex1notify', 'ex1debug']);
    await helper.load([...ALL_NODES, ...CORE_NODES], flow, credentials);
    const alerts = collect(helper.getNode('ex1notify'));
    const detections = collect(helper.getNode('ex1debug'));
    const started = Date.now();
    // The door scene loops every 10 s: the person is there for 9 s, gone for 1 s.
    await eventually(() => alerts.length >= 3, 60_000, 'three alerts');
    const seconds = (Date.now() - started) / 1000;
    assert.ok(alerts.length <= Math.ceil(seconds / 10) + 1, `one alert per visit: ${alerts.length} alerts in ${seconds.toFixed(1)} s`);
    assert.ok(detections.length > 0, 'detections in the Debug sidebar too');
    for (const alert of alerts) assert.equal((alert as NodeMessage & { object?: { class?: string } }).object?.class, 'person');
  });

  it('05 Door alerts with snapshots: every alert carries its picture, and every Vision Event gets it', async function () {
    this.timeout(120_000);
    const { flow, credentials } = await exampleWithProbes(server, '05 - Door alerts with snapshots.json', ['ex5alert', 'ex5logged']);
    const eventsBefore = (await server.json<{ events: unknown[] }>('/local/vision-events')).events?.length ?? 0;
    await helper.load([...ALL_NODES, ...CORE_NODES], flow, credentials);
    const alerts = collect(helper.getNode('ex5alert'));
    const logged = collect(helper.getNode('ex5logged'));
    await eventually(() => alerts.length >= 2 && logged.length >= 2, 60_000, 'two alerts, logged');
    for (const alert of alerts) {
      const image = (alert as NodeMessage & { image?: Buffer }).image;
      assert.ok(Buffer.isBuffer(image) && image[0] === 0xff && image[1] === 0xd8, 'a JPEG on every alert');
    }
    const stored = await server.json<{ events: Array<{ images?: unknown[] }> }>('/local/vision-events');
    const ours = (stored.events ?? []).slice(eventsBefore);
    assert.ok(ours.length >= 2);
    assert.ok(
      ours.every((event) => Array.isArray(event.images) && event.images.length === 1),
      'a picture attached to every event',
    );
  });
});
