import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ResilientStream, type StreamResult } from '../../lib';
import { eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage } from '../helpers/media';
import { secret } from '../helpers/secrets';

const TURN_PASSWORD = secret('turn-pass-4711');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A stream through a real TURN relay (Debian's coturn, installed by .ci/run), reached
 * over TCP with relaying forced: what a user behind a firewall that blocks UDP gets.
 */
describe('system: a stream through a TURN relay over TCP (coturn)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let turn: ChildProcess;
  let turnPort: number;

  before(async () => {
    const installed = spawnSync('turnserver', ['--version'], { encoding: 'utf8' });
    assert.equal(installed.status, 0, 'coturn is needed for this test: apt install coturn (.ci/run installs it)');
    turnPort = await freePort();
    turn = spawn(
      'turnserver',
      [
        '-n',
        '--no-cli',
        '--no-tls',
        '--no-dtls',
        '--log-file=stdout',
        '--simple-log',
        '--listening-ip=127.0.0.1',
        `--listening-port=${turnPort}`,
        '--relay-ip=127.0.0.1',
        '--min-port=49152',
        '--max-port=49300',
        '--allow-loopback-peers',
        '--lt-cred-mech',
        '--realm=roboflow-test',
        `--user=node:${TURN_PASSWORD}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    turn.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    await eventually(() => /listener opened on|Total General servers/i.test(output.join('')), 10_000, `coturn to listen: ${output.join('')}`);
    server = await startLocalServer([]);
  });
  after(async () => {
    turn?.kill('SIGTERM');
    await server?.stop();
  });

  it('results flow, and the stream knows it goes through a relay over TCP', async () => {
    const stream = new ResilientStream({
      connection: server.connection(),
      workflow: { workspace: 'demo', workflowId: 'detect-colors' },
      source: { kind: 'frames' },
      dataOutputs: ['count'],
      iceServers: [{ urls: [`turn:127.0.0.1:${turnPort}?transport=tcp`], username: 'node', credential: TURN_PASSWORD }],
      iceTransportPolicy: 'relay',
    });
    const results: StreamResult[] = [];
    const paths: unknown[] = [];
    stream.on('result', (result) => results.push(result));
    stream.on('connected', ({ path }) => paths.push(path));
    stream.start();
    try {
      for (let index = 0; results.length < 3 && index < 200; index++) {
        if (stream.state === 'streaming') await stream.pushFrame(await sceneImage('two-squares', index % 30));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(results.length >= 3, `results through the relay: ${results.length}`);
      assert.deepEqual(paths, [{ path: 'relay', protocol: 'tcp' }]);
    } finally {
      await stream.stop();
    }
  });
});
