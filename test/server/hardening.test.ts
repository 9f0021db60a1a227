import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamSession } from '../../lib';
import { eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { secret } from '../helpers/secrets';
import { openRaw, startRaw, type RawSession } from './raw-client';

/**
 * The local server as a network service (issue 14, items 9-11): nothing a request sends
 * ends it, it never answers a camera password, its children and temp files die with it,
 * and its simulated camera holds no unbounded request body.
 */

const CAMERA_PASSWORD = secret('cam-pass-5e9d1');

/** Sends raw bytes and returns everything the peer answered until it closed, or `timeoutMs` passed. */
function rawExchange(port: number, request: string | Buffer, timeoutMs = 5_000): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (data) => (answer += data.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    socket.write(request);
  });
}

/** Every process below `pid`: children, and theirs (the worker process's camera readers). */
function descendantsOf(pid: number): number[] {
  const children = childrenOf(pid);
  return [...children, ...children.flatMap((child) => descendantsOf(child))];
}

/** Process ids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

describe('local server hardening', function () {
  this.timeout(60_000);

  describe('as a network service', () => {
    let server: RunningServer;
    let port: number;
    before(async () => {
      server = await startLocalServer(['--cameras', '']);
      port = Number(new URL(server.url).port);
    });
    after(async () => {
      await server?.stop();
    });

    for (const [what, request] of [
      ['a path that does not decode (%E0%A4%A)', 'GET /local/cameras/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['a path with a broken escape (%ZZ)', 'GET /local/cameras/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      ['a request target that is not a URL (http://[)', 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ] as const) {
      it(`${what}: answered 400, and the server keeps serving`, async () => {
        const { answer } = await rawExchange(port, request);
        assert.match(answer, /^HTTP\/1\.1 400 /);
        assert.equal(server.process.exitCode, null, 'the server is still running');
        assert.equal((await server.json<{ ok: boolean }>('/local/health')).ok, true);
      });
    }
  });

  describe('clients that give up at any moment of the start', () => {
    it('sixty starts abandoned at random points (before, during and after the answer) leave the server running and nothing open', async function () {
      this.timeout(180_000);
      // A peer connection closed while wrtc was still setting its description used to
      // crash the whole server (SIGSEGV) during a run of redeploys.
      const server = await startLocalServer(['--cameras', 'two-squares']);
      try {
        const camera = (await server.cameras())[0];
        for (let round = 0; round < 60; round++) {
          const session = new StreamSession({
            connection: server.connection(),
            workflow: { workspace: 'w', workflowId: 'detect-colors' },
            source: { kind: 'mjpeg', url: camera.mjpeg_url },
            dataOutputs: ['count'],
            streamOutputs: ['output_image'],
            videoOutput: 'jpeg',
          });
          const started = session.start().catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 1_200)));
          await session.stop();
          await started;
          assert.equal(server.process.exitCode, null, `the server is still running after round ${round}`);
          assert.equal(server.process.signalCode, null, `the server was not killed in round ${round}`);
        }
        await eventually(async () => (await server.sessions()).active.length === 0, 15_000, 'no session left open');
        assert.equal((await server.json<{ ok: boolean }>('/local/health')).ok, true);
      } finally {
        await server.stop();
      }
    });
  });

  describe('a worker process that dies', () => {
    it('ends its sessions with the reason, the server keeps serving, and the next session runs in a new worker process', async function () {
      this.timeout(60_000);
      const server = await startLocalServer(['--cameras', 'two-squares']);
      const open: RawSession[] = [];
      try {
        const camera = (await server.cameras())[0];
        const first = await openRaw(server, { body: { mjpeg_url: camera.mjpeg_url, data_output: ['count'] } });
        open.push(first);
        await eventually(() => first.frames().length > 0, 15_000, 'results from the first session');
        const before = await server.json<{ worker: { pid: number; crashes: number } }>('/local/health');
        // What a native crash in the WebRTC module does to the process it runs in.
        process.kill(before.worker.pid, 'SIGSEGV');
        await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'the session to end with its worker process');
        // Its client hears nothing more (no process is left to close the connection politely:
        // it notices as from any vanished peer, by its own timeouts).
        const heard = first.results.length;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        assert.equal(first.results.length, heard, 'no result after the crash');
        const sessions = await server.sessions();
        assert.deepEqual(sessions.active, [], 'no session is left open');
        assert.deepEqual(
          sessions.ended.map((session) => [session.state, session.endedReason]),
          [['ended', 'the worker process crashed (SIGSEGV)']],
        );
        assert.equal(server.process.exitCode, null, 'the server is still running');
        assert.equal(server.process.signalCode, null);

        const second = await openRaw(server, { body: { mjpeg_url: camera.mjpeg_url, data_output: ['count'] } });
        open.push(second);
        await eventually(() => second.frames().length > 0, 15_000, 'results from a session started after the crash');
        const after = await server.json<{ worker: { pid: number; crashes: number } }>('/local/health');
        assert.equal(after.worker.crashes, 1);
        assert.notEqual(after.worker.pid, before.worker.pid, 'a new worker process');
      } finally {
        for (const session of open) session.close();
        await server.stop();
      }
    });
  });

  describe('camera passwords', () => {
    let server: RunningServer;
    const open: RawSession[] = [];
    before(async () => {
      server = await startLocalServer(['--cameras', 'two-squares', '--rtsp-port', '0', '--rtsp-auth', `admin:${CAMERA_PASSWORD}`]);
    });
    after(async () => {
      for (const session of open) session.close();
      await server?.stop();
    });

    it('GET /local/sessions never answers a camera password (running or ended sessions)', async () => {
      const camera = (await server.cameras())[0];
      const withPassword = (path: string): string => camera.rtsp_url!.replace('rtsp://', `rtsp://admin:${CAMERA_PASSWORD}@`).replace(/\/[^/]*$/, `/${path}`);
      await server.faults({ sourceOpenTimeoutMs: 5_000 });
      const failed = await startRaw(server, { body: { rtsp_url: withPassword('no-such-camera'), data_output: ['count'] } });
      assert.equal(!failed.ok && failed.status, 504);
      assert.ok(!JSON.stringify(failed).includes(CAMERA_PASSWORD), 'the 504 answer has no password');
      const session = await openRaw(server, { body: { rtsp_url: withPassword(camera.name), data_output: ['count'] } });
      open.push(session);
      await eventually(() => session.frames().length >= 1, 15_000, 'a result from the camera');
      const text = await (await fetch(`${server.url}/local/sessions`)).text();
      assert.ok(!text.includes(CAMERA_PASSWORD), 'the password is not in GET /local/sessions');
      const sessions = JSON.parse(text) as { active: Array<{ sourceUrl?: string }>; ended: Array<{ sourceUrl?: string; endedReason?: string }> };
      assert.match(sessions.active[0].sourceUrl ?? '', /^rtsp:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/two-squares$/);
      assert.match(sessions.ended[0].endedReason ?? '', /could not start/);
    });

    it('the simulated RTSP camera refuses an oversized request body instead of buffering it', async () => {
      const rtspPort = Number(new URL((await server.cameras())[0].rtsp_url!).port);
      const head = 'ANNOUNCE rtsp://127.0.0.1/two-squares RTSP/1.0\r\nCSeq: 7\r\nContent-Type: application/sdp\r\nContent-Length: 1000000000\r\n\r\n';
      const { answer, closed } = await rawExchange(rtspPort, Buffer.concat([Buffer.from(head), Buffer.alloc(512 * 1024, 0x41)]));
      assert.match(answer, /^RTSP\/1\.0 413 /, 'refused at once');
      assert.match(answer, /CSeq: 7/);
      assert.ok(closed, 'and the connection is closed');
    });
  });

  describe('children and temp files die with the server', () => {
    let tmp: string;
    beforeEach(() => {
      // A temp dir of our own: the server's data dir goes inside, so we can see it go.
      tmp = mkdtempSync(join(tmpdir(), 'roboflow-hardening-'));
    });
    afterEach(() => {
      rmSync(tmp, { recursive: true, force: true });
    });

    const ways: Array<[string, (server: RunningServer) => Promise<unknown>]> = [
      ['SIGTERM', async (server) => server.process.kill('SIGTERM')],
      ['SIGINT', async (server) => server.process.kill('SIGINT')],
      ['an uncaught error', (server) => server.faults({ crashAfterMs: 100 })],
    ];
    for (const [way, end] of ways) {
      it(`on ${way}: every ffmpeg child ends and the temp data dir is removed`, async () => {
        const server = await startLocalServer(['--cameras', 'two-squares', '--rtsp-port', '0'], { TMPDIR: tmp });
        const sessions: RawSession[] = [];
        const mjpeg = new AbortController();
        try {
          assert.equal(readdirSync(tmp).filter((name) => name.startsWith('roboflow-local-')).length, 1, 'the data dir is in our temp dir');
          const camera = (await server.cameras())[0];
          // A camera pulled over RTSP by a session, and an MJPEG viewer: ffmpeg children of every kind.
          sessions.push(await openRaw(server, { body: { rtsp_url: camera.rtsp_url, data_output: ['count'] } }));
          const viewer = await fetch(camera.mjpeg_url, { signal: mjpeg.signal });
          const reader = viewer.body!.getReader();
          await reader.read();
          const children = await eventually(
            () => {
              const found = descendantsOf(server.process.pid!);
              return found.length >= 4 && found;
            },
            10_000,
            'four processes: the ffmpeg of the camera and of the MJPEG stream, the worker process and its RTSP reader',
          );
          const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code) => resolve(code)));
          await end(server);
          await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error('the server did not exit within 10 s')), 10_000))]);
          await eventually(() => children.every((pid) => !running(pid)), 5_000, `children ${children.join(', ')} to end`);
          assert.deepEqual(
            readdirSync(tmp).filter((name) => name.startsWith('roboflow-local-') && existsSync(join(tmp, name))),
            [],
            'the temp data dir is gone',
          );
        } finally {
          mjpeg.abort();
          for (const session of sessions) session.close();
          await server.stop();
        }
      });
    }
  });
});
