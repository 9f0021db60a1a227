import { strict as assert } from 'node:assert';
import { createSocket, type Socket } from 'node:dgram';
import { isTcpTurnUrl, preferTcpTurn, udpReaches, udpTurnTarget } from '../../lib/stream/ice';

/** A UDP socket that answers STUN Binding requests, as a TURN server does. */
async function stunResponder(): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  socket.on('message', (message, from) => {
    const answer = Buffer.alloc(20);
    answer.writeUInt16BE(0x0101, 0); // Binding success
    message.copy(answer, 4, 4, 20); // cookie + transaction id
    socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, socket };
}

describe('ICE: TURN transports for networks that block UDP', () => {
  const servers: RTCIceServer[] = [{ urls: ['turn:turn.example:3478?transport=udp', 'turn:turn.example:3478?transport=tcp', 'turns:turn.example:443?transport=tcp'], username: 'u', credential: 'c' }];

  it('tells TCP/TLS TURN URLs from UDP ones and puts them first on request', () => {
    assert.equal(isTcpTurnUrl('turn:a:3478?transport=tcp'), true);
    assert.equal(isTcpTurnUrl('turns:a:443'), true);
    assert.equal(isTcpTurnUrl('turn:a:3478'), false);
    assert.equal(isTcpTurnUrl('turn:a:3478?transport=udp'), false);
    assert.deepEqual(preferTcpTurn(servers)[0].urls, ['turn:turn.example:3478?transport=tcp', 'turns:turn.example:443?transport=tcp', 'turn:turn.example:3478?transport=udp']);
    assert.equal(preferTcpTurn(servers)[0].username, 'u');
  });

  it('finds the UDP TURN server to probe', () => {
    assert.deepEqual(udpTurnTarget(servers), { host: 'turn.example', port: 3478 });
    assert.deepEqual(udpTurnTarget([{ urls: 'turn:[::1]:5349' }]), { host: '::1', port: 5349 });
    assert.equal(udpTurnTarget([{ urls: 'turns:a:443' }]), undefined);
  });

  it('probes UDP with a STUN Binding request: answered -> reachable; silent -> not, within the time limit', async () => {
    const responder = await stunResponder();
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      assert.equal(await udpReaches({ host: '127.0.0.1', port: responder.port }, 1_000), true);
      const started = Date.now();
      assert.equal(await udpReaches({ host: '127.0.0.1', port: silent.address().port }, 300), false);
      assert.ok(Date.now() - started < 2_000);
    } finally {
      responder.socket.close();
      silent.close();
    }
  });
});
