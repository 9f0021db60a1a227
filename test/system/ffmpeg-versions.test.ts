import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { startLocalServer, eventually, type RunningServer } from '../helpers/local-server';
import { secret } from '../helpers/secrets';
import { openRaw, startRaw, type RawSession } from '../server/raw-client';

/**
 * Issue 15, item 1: the server's RTSP camera path works with the ffmpeg a user actually
 * has. Debian's `apt install ffmpeg` (5.1) removed the option the 2018 build bundled by
 * @ffmpeg-installer/ffmpeg (4.x) needs, so both are run here, each end to end: the
 * simulated camera (ffmpeg sends RTP), the worker pulling it (ffmpeg reads RTSP), and a
 * camera that cannot be opened (ffmpeg's own reason in the 504, password masked).
 */

const DEBIAN_FFMPEG = '/usr/bin/ffmpeg';
const CAMERA_PASSWORD = secret('rtsp-pass-4f1c8a');
const WRONG_PASSWORD = secret('wrong-password-31');

function bundledFfmpeg(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

const variants: Array<{ name: string; path: () => string; major: number }> = [
  {
    name: "Debian's ffmpeg 5.1 (apt install ffmpeg)",
    path: () => {
      // Not a skip: without it this test proves nothing about the ffmpeg users install.
      if (!existsSync(DEBIAN_FFMPEG)) {
        throw new Error(`Debian's ffmpeg is not installed (${DEBIAN_FFMPEG} is missing): run \`apt-get install -y ffmpeg\` (.ci/run does this before npm test)`);
      }
      return DEBIAN_FFMPEG;
    },
    major: 5,
  },
  { name: 'the bundled @ffmpeg-installer/ffmpeg (a 2018 4.x build)', path: bundledFfmpeg, major: 4 },
];

describe('local server RTSP cameras with each ffmpeg', function () {
  this.timeout(60_000);

  for (const variant of variants) {
    describe(variant.name, () => {
      let server: RunningServer | undefined;
      const open: RawSession[] = [];
      let cameraUrl = '';
      const withPassword = (password: string, path?: string): string => {
        const url = new URL(cameraUrl);
        url.username = 'viewer';
        url.password = password;
        if (path) url.pathname = `/${path}`;
        return url.toString();
      };

      before(async () => {
        const ffmpeg = variant.path();
        server = await startLocalServer(['--cameras', 'door', '--rtsp-port', '0', '--rtsp-auth', `viewer:${CAMERA_PASSWORD}`], { FFMPEG_PATH: ffmpeg });
        cameraUrl = (await server.cameras())[0].rtsp_url!;
        await server.faults({ sourceOpenTimeoutMs: 8_000 });
      });
      after(async () => {
        for (const session of open) session.close();
        await server?.stop();
      });

      it('the server uses that ffmpeg and knows its version', async () => {
        const health = await server!.json<{ ffmpeg: { path: string; version: string; major: number } }>('/local/health');
        assert.equal(health.ffmpeg.path, variant.path());
        assert.equal(health.ffmpeg.major, variant.major, `version ${health.ffmpeg.version}`);
      });

      it('a session pulls the RTSP camera (with credentials) and returns results', async () => {
        const session = await openRaw(server!, { body: { rtsp_url: withPassword(CAMERA_PASSWORD), data_output: ['count'] } });
        open.push(session);
        await eventually(() => session.frames().length >= 5, 20_000, 'five results from the camera');
        assert.ok(session.frames().every(({ doc }) => typeof doc.serialized_output_data?.count === 'number' && doc.errors.length === 0));
      });

      for (const [what, url, said] of [
        ['a camera path that does not exist', () => withPassword(CAMERA_PASSWORD, 'no-such-camera'), /404 Not Found/],
        ['a wrong password', () => withPassword(WRONG_PASSWORD), /401 Unauthorized/],
      ] as const) {
        it(`${what}: 504 whose message carries ffmpeg's own reason, without the password`, async () => {
          const answer = await startRaw(server!, { body: { rtsp_url: url(), data_output: ['count'] } });
          assert.equal(answer.ok, false);
          if (answer.ok) return;
          assert.equal(answer.status, 504);
          const message = String(answer.body.message);
          assert.match(message, /could not open the RTSP source rtsp:\/\/viewer:\*\*\*@127\.0\.0\.1:\d+\/.*: ffmpeg: /);
          assert.match(message, said);
          assert.doesNotMatch(message, /Unrecognized option/);
          assert.ok(!message.includes(CAMERA_PASSWORD) && !message.includes(WRONG_PASSWORD), 'no password in the message');
        });
      }
    });
  }
});
