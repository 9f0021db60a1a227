import { strict as assert } from 'node:assert';
import { API_KEY, startLocalServer, type RunningServer } from '../helpers/local-server';
import { ALL_NODES, configNode, helper, useUserDir, type FlowNode } from '../helpers/node-red-helper';
import type { RoboflowConfigNode } from '../../nodes/node-red/common/config';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('wrong-key-7777');

describe('Node-RED: roboflow-config', function () {
  this.timeout(30_000);
  let server: RunningServer;

  before(async () => {
    useUserDir();
    server = await startLocalServer(['--cameras', '']);
  });
  after(() => server.stop());
  afterEach(() => helper.unload());

  it('holds the key as a credential and gives nodes a validated connection', async () => {
    const config: FlowNode = { ...configNode(server.url), region: 'eu', plan: 'webrtc-gpu-medium' };
    await helper.load(ALL_NODES, [config], { cfg: { apiKey: API_KEY } });
    const node = helper.getNode('cfg') as unknown as RoboflowConfigNode;
    assert.deepEqual(node.connection(), { apiKey: API_KEY, serverUrl: server.url, apiUrl: server.url, region: 'eu', plan: 'webrtc-gpu-medium' });
    assert.equal((node as unknown as Record<string, unknown>).apiKey, undefined, 'the key is not a plain property');
  });

  it('without a key, says what to do', async () => {
    await helper.load(ALL_NODES, [configNode(server.url)]);
    const node = helper.getNode('cfg') as unknown as RoboflowConfigNode;
    assert.throws(() => node.connection(), /API key missing: set the API key/);
  });

  it('fills in Roboflow hosts for a hand-written config without URLs', async () => {
    await helper.load(ALL_NODES, [{ id: 'cfg', type: 'roboflow-config' }], { cfg: { apiKey: API_KEY } });
    const node = helper.getNode('cfg') as unknown as RoboflowConfigNode;
    assert.equal(node.connection().serverUrl, 'https://serverless.roboflow.com');
    assert.equal(node.connection().apiUrl, 'https://api.roboflow.com');
  });

  describe('test connection (admin endpoint)', () => {
    const post = async (body: Record<string, unknown>): Promise<{ ok: boolean; message: string }> => {
      const response = await helper.request().post('/roboflow/test-connection').send(body).expect(200);
      return response.body as { ok: boolean; message: string };
    };

    it('reports success with the key typed in the dialog', async () => {
      await helper.load(ALL_NODES, []);
      const answer = await post({ apiKey: API_KEY, serverUrl: server.url, apiUrl: server.url });
      assert.equal(answer.ok, true);
      assert.match(answer.message, /API key accepted by http:\/\/127\.0\.0\.1:\d+; streaming server .* reachable/);
    });

    it('uses the stored key when the dialog shows the password placeholder', async () => {
      await helper.load(ALL_NODES, [configNode(server.url)], { cfg: { apiKey: API_KEY } });
      assert.equal((await post({ id: 'cfg', apiKey: '__PWRD__', serverUrl: server.url, apiUrl: server.url })).ok, true);
    });

    it('reports a wrong key clearly, without echoing it', async () => {
      await helper.load(ALL_NODES, []);
      const answer = await post({ apiKey: WRONG_KEY, serverUrl: server.url, apiUrl: server.url });
      assert.equal(answer.ok, false);
      assert.match(answer.message, /API key rejected \(401\)/);
      assert.doesNotMatch(answer.message, new RegExp(WRONG_KEY));
    });

    it('reports an unreachable server and a missing key', async () => {
      await helper.load(ALL_NODES, []);
      const gone = await post({ apiKey: API_KEY, serverUrl: 'http://127.0.0.1:9', apiUrl: server.url });
      assert.equal(gone.ok, false);
      assert.match(gone.message, /Cannot reach 127\.0\.0\.1:9/);
      const none = await post({ serverUrl: server.url, apiUrl: server.url });
      assert.deepEqual(none, { ok: false, message: 'API key missing: set the API key in the Roboflow credentials' });
    });
  });
});
