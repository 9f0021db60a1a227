import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redact } from '../../lib';
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

  it('a config without a key is said at deploy on every node that uses it (status and one warning), not at their first message', async () => {
    const nodes: FlowNode[] = [
      configNode(server.url),
      {
        id: 'stream',
        type: 'roboflow-stream',
        roboflow: 'cfg',
        workspace: 'demo',
        workflow: 'detect-colors',
        source: 'rtsp',
        url: 'rtsp://127.0.0.1:9/none',
        start: 'message',
        version: 3,
        x: 0,
        y: 0,
        z: 'tab',
        wires: [[], []],
      },
      { id: 'job', type: 'roboflow-video-job', roboflow: 'cfg', workspace: 'demo', workflow: 'detect-colors', version: 2, x: 0, y: 0, z: 'tab', wires: [[]] },
      { id: 'event', type: 'roboflow-vision-event', roboflow: 'cfg', useCase: 'demo', version: 1, x: 0, y: 0, z: 'tab', wires: [[]] },
      { id: 'image', type: 'roboflow-workflow', roboflow: 'cfg', workspace: 'demo', workflow: 'detect-colors', version: 1, x: 0, y: 0, z: 'tab', wires: [[]] },
    ];
    const seen: Record<string, { statuses: string[]; warnings: string[] }> = {};
    const spy = helper as unknown as { _NodePrototype: Record<string, (...args: unknown[]) => unknown> };
    const original = { status: spy._NodePrototype.status, warn: spy._NodePrototype.warn };
    spy._NodePrototype.status = function (this: { id: string }, ...args: unknown[]) {
      (seen[this.id] ??= { statuses: [], warnings: [] }).statuses.push(String((args[0] as { text?: string }).text ?? ''));
      return original.status.apply(this, args);
    };
    spy._NodePrototype.warn = function (this: { id: string }, ...args: unknown[]) {
      (seen[this.id] ??= { statuses: [], warnings: [] }).warnings.push(String(args[0]));
      return original.warn.apply(this, args);
    };
    try {
      await helper.load(ALL_NODES, [{ id: 'tab', type: 'tab', label: 'test' }, ...nodes], {});
    } finally {
      spy._NodePrototype.status = original.status;
      spy._NodePrototype.warn = original.warn;
    }
    for (const id of ['stream', 'job', 'event', 'image']) {
      assert.ok(
        seen[id]?.statuses.some((text) => text.startsWith('API key missing')),
        `${id}: ${JSON.stringify(seen[id])}`,
      );
      assert.equal(seen[id].warnings.filter((text) => text.includes('API key missing: set the API key')).length, 1, `${id}: one warning`);
    }
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

    describe('a page on another site (cross-site requests)', () => {
      /** Stands in for the attacker's host: it must receive nothing. */
      let attacker: Server;
      let attackerUrl: string;
      const received: string[] = [];
      before(async () => {
        attacker = createServer((req, res) => {
          received.push(`${req.method} ${req.url}`);
          res.end('{}');
        });
        await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
        attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
      });
      after(() => new Promise<void>((resolve) => attacker.close(() => resolve())));
      beforeEach(() => (received.length = 0));

      it('a form-encoded or text/plain post (what a page can send without asking) is refused: nothing is sent anywhere', async () => {
        await helper.load(ALL_NODES, [configNode(server.url)], { cfg: { apiKey: API_KEY } });
        const turnBefore = await server.requestCount('webrtc_turn_config');
        // What a hostile page's <form method=post> sends: the guessable config id and its own host.
        const form = await helper
          .request()
          .post('/roboflow/test-connection')
          .type('form')
          .send(`id=cfg&apiUrl=${encodeURIComponent(attackerUrl)}&serverUrl=${encodeURIComponent(attackerUrl)}`);
        assert.equal(form.status, 415);
        assert.match((form.body as { message: string }).message, /accepts only application\/json/);
        const plain = await helper
          .request()
          .post('/roboflow/test-connection')
          .set('content-type', 'text/plain')
          .send(JSON.stringify({ id: 'cfg', apiUrl: attackerUrl, serverUrl: attackerUrl }));
        assert.equal(plain.status, 415);
        // Even with the saved URLs, a form post runs nothing.
        const sameUrls = await helper
          .request()
          .post('/roboflow/test-connection')
          .type('form')
          .send(`id=cfg&apiUrl=${encodeURIComponent(server.url)}&serverUrl=${encodeURIComponent(server.url)}`);
        assert.equal(sameUrls.status, 415);
        assert.deepEqual(received, [], 'the attacker received nothing');
        assert.equal(await server.requestCount('webrtc_turn_config'), turnBefore, 'Roboflow (the local server) was not called either');
      });

      it('the stored key is never sent to a URL other than the saved ones: a changed URL needs the key typed again', async () => {
        await helper.load(ALL_NODES, [configNode(server.url)], { cfg: { apiKey: API_KEY } });
        for (const urls of [
          { apiUrl: attackerUrl, serverUrl: server.url },
          { apiUrl: server.url, serverUrl: attackerUrl },
          { apiUrl: attackerUrl, serverUrl: attackerUrl },
        ]) {
          for (const apiKey of ['__PWRD__', '', undefined]) {
            const answer = await post({ id: 'cfg', ...(apiKey === undefined ? {} : { apiKey }), ...urls });
            assert.equal(answer.ok, false);
            assert.match(answer.message, /differs from the one saved with this config: type the API key again/);
          }
        }
        assert.deepEqual(received, [], 'the attacker received nothing');
        // With the key typed again, the test goes where the user says (their own key, their own choice).
        await post({ id: 'cfg', apiKey: WRONG_KEY, apiUrl: attackerUrl, serverUrl: attackerUrl });
        assert.deepEqual(received, [`GET /webrtc_turn_config?api_key=${encodeURIComponent(WRONG_KEY)}`, 'GET /'], 'the typed key only');
      });

      it("only a Roboflow config node's stored key is used: another node's id gets 'API key missing'", async () => {
        await helper.load(ALL_NODES, [configNode(server.url), { id: 'other', type: 'helper', x: 1, y: 1 }], { cfg: { apiKey: API_KEY } });
        for (const id of ['other', 'nope', 42]) {
          const answer = await post({ id, apiKey: '__PWRD__', apiUrl: attackerUrl, serverUrl: attackerUrl });
          assert.deepEqual(answer, { ok: false, message: 'API key missing: set the API key in the Roboflow credentials' });
        }
        assert.deepEqual(received, []);
      });
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

  describe('users and secrets', () => {
    it('counts the nodes that use it (register / deregister)', async () => {
      await helper.load(ALL_NODES, [configNode(server.url)], { cfg: { apiKey: API_KEY } });
      const node = helper.getNode('cfg') as unknown as RoboflowConfigNode;
      node.register('a');
      node.register('b');
      node.register('a');
      assert.deepEqual([...node.users], ['a', 'b']);
      node.deregister('a');
      assert.deepEqual([...node.users], ['b']);
    });

    it('deleting one config node keeps the key masked while another config node holds it', async () => {
      const shared = secret('shared-key-for-two-configs-42');
      const both = [configNode(server.url, 'cfg-a'), configNode(server.url, 'cfg-b')];
      const credentials = { 'cfg-a': { apiKey: shared }, 'cfg-b': { apiKey: shared } };
      await helper.load(ALL_NODES, both, credentials);
      assert.equal(redact(`server echoed ${shared}`), 'server echoed ***');
      // Deploy without cfg-a ("modified nodes" deploy: cfg-b keeps running untouched).
      await helper.setFlows([both[1]], 'nodes', { 'cfg-b': { apiKey: shared } });
      assert.equal(redact(`server echoed ${shared}`), 'server echoed ***', 'cfg-b still holds the key');
      // A redeploy of cfg-b (same id) does not let go of the key either.
      await helper.setFlows([{ ...both[1], name: 'renamed' }], 'full', { 'cfg-b': { apiKey: shared } });
      assert.equal(redact(shared), '***');
    });
  });
});
