import { strict as assert } from 'node:assert';
import { API_KEY, eventually, startLocalServer } from '../helpers/local-server';
import { collect, configNode, helper, onTab, useUserDir, ALL_NODES } from '../helpers/node-red-helper';
import { scanner } from '../helpers/secret-scan';
import { registeredSecrets, SecretScanner } from '../helpers/secrets';

/**
 * Promise 8 of the reliability issue is checked once for the whole run, by the root hook
 * of secret-scan.ts. These tests show that check can fail, and that it is wired to every
 * channel it claims to watch.
 */
describe('reliability: the secret scan over every suite', () => {
  it('finds a secret in text, also split across chunks or inside a value, and masks it in its report', () => {
    const local = new SecretScanner(() => ['s3cr3t-value-42']);
    local.text('child', 'connecting with key s3cr3t-');
    local.text('child', 'value-42 to the server');
    local.value('node status', [{ fill: 'red', text: 'ok' }, { error: new Error('401 for s3cr3t-value-42') }]);
    local.text('other', 'nothing here');
    assert.deepEqual(
      local.hits.map((hit) => hit.source),
      ['child', 'node status'],
    );
    assert.ok(
      local.hits.every((hit) => hit.excerpt.includes('<secret>') && !hit.excerpt.includes('s3cr3t-value-42')),
      'the report masks the secret',
    );
  });

  it('does not read images: buffers in messages are skipped, not decoded as text', () => {
    const local = new SecretScanner(() => ['s3cr3t-value-42']);
    local.value('node send', [{ payload: Buffer.from('s3cr3t-value-42'), image: new Uint8Array(Buffer.from('s3cr3t-value-42')) }]);
    assert.deepEqual(local.hits, []);
  });

  it("knows the suites' secrets: the API key, wrong keys and camera passwords", () => {
    assert.ok(registeredSecrets().includes(API_KEY));
  });

  it("watches this process, the local server, and the nodes' statuses, logs and messages", async function () {
    this.timeout(30_000);
    const before = new Map(scanner.seen);
    const grew = (source: string): boolean => (scanner.seen.get(source) ?? 0) > (before.get(source) ?? 0);
    useUserDir();
    const server = await startLocalServer(['--cameras', '']);
    try {
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
            deviceId: 'scan',
            streamId: '',
            cooldown: 0,
            version: 1,
            wires: [['out']],
          },
          { id: 'out', type: 'helper' },
        ]),
        { cfg: { apiKey: API_KEY } },
      );
      const out = collect(helper.getNode('out'));
      helper.getNode('event').receive({ payload: { n: 1 } });
      helper.getNode('event').warn('a warning, as a node logs one');
      await eventually(() => out.length === 1, 10_000, 'the event passed on');
      process.stdout.write('');
      console.log('    (the secret scan reads this line)');
      for (const source of ['local server', 'node send', 'node status', 'node warn', 'Node-RED log', 'stdout']) assert.ok(grew(source), `the scan saw ${source}`);
    } finally {
      await helper.unload();
      await server.stop();
    }
  });
});
