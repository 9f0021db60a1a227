import { strict as assert } from 'node:assert';
import type { RoboflowError } from '../../lib/errors';
import { firstFfmpegError, mjpegInputArgs, NEWEST_KNOWN_MAJOR, parseFfmpegVersion, requireFfmpeg, rtspInputArgs } from '../../lib/media/ffmpeg';

/** `ffmpeg -version` of the static 2018 build inside @ffmpeg-installer/ffmpeg 1.1.0 (a git snapshot of the 4.1 line). */
const INSTALLER_2018 = `ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2018 the FFmpeg developers
built with gcc 6.3.0 (Debian 6.3.0-18+deb9u1) 20170516
configuration: --enable-gpl --enable-version3 --enable-static --disable-debug --disable-ffplay --enable-libx264
libavutil      56. 24.101 / 56. 24.101
libavcodec     58. 42.100 / 58. 42.100
libavformat    58. 24.100 / 58. 24.100
libavdevice    58.  6.101 / 58.  6.101
libavfilter     7. 46.101 /  7. 46.101
libswscale      5.  4.100 /  5.  4.100
libswresample   3.  4.100 /  3.  4.100
libpostproc    55.  4.100 / 55.  4.100
`;

describe('ffmpeg locator: versions and command lines', () => {
  const cases: Array<[string, string, number]> = [
    ['ffmpeg 4.1 release', 'ffmpeg version 4.1 Copyright (c) 2000-2018 the FFmpeg developers', 4],
    ['ffmpeg 4.4 (Ubuntu 22.04)', 'ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright (c) 2000-2021 the FFmpeg developers', 4],
    ['the @ffmpeg-installer 2018 git build (libavformat 58)', INSTALLER_2018, 4],
    ['Debian 12 (5.1)', 'ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers', 5],
    ['ffmpeg 6.1 (Ubuntu 24.04)', 'ffmpeg version 6.1.1-3ubuntu5 Copyright (c) 2000-2023 the FFmpeg developers', 6],
    ['ffmpeg 7.1', 'ffmpeg version 7.1.1 Copyright (c) 2000-2025 the FFmpeg developers', 7],
    ['a tagged build (n7.0)', 'ffmpeg version n7.0 Copyright (c) 2000-2024 the FFmpeg developers', 7],
    [
      'a Windows git build with its libraries listed (libavformat 61)',
      'ffmpeg version 2024-03-04-git-e30369bc1c-full_build-www.gyan.dev Copyright (c) 2000-2024\nlibavformat    61.  1.100 / 61.  1.100',
      7,
    ],
    ['a git snapshot without library versions (the newest)', 'ffmpeg version N-113000-g4a3d3c5e6f Copyright (c) 2000-2023 the FFmpeg developers', NEWEST_KNOWN_MAJOR],
  ];
  for (const [what, output, major] of cases) {
    it(`reads the major version of ${what}: ${major}`, () => {
      assert.equal(parseFfmpegVersion(output)?.major, major);
    });
  }

  it('keeps the version as ffmpeg prints it, and refuses text that is not ffmpeg', () => {
    assert.equal(parseFfmpegVersion('ffmpeg version 5.1.6-0+deb12u1 Copyright')?.version, '5.1.6-0+deb12u1');
    assert.equal(parseFfmpegVersion(INSTALLER_2018)?.version, 'N-47683-g0e8eb07980-static');
    assert.equal(parseFfmpegVersion('avconv version 12'), undefined);
    assert.equal(parseFfmpegVersion(''), undefined);
  });

  it('RTSP input options: -stimeout (µs) up to ffmpeg 4, -timeout (µs) from ffmpeg 5 on, always RTP over TCP', () => {
    const forVersion = (output: string): string[] => rtspInputArgs(parseFfmpegVersion(output)!, { socketTimeoutMs: 5_000 });
    assert.deepEqual(forVersion('ffmpeg version 4.1 Copyright'), ['-rtsp_transport', 'tcp', '-stimeout', '5000000']);
    assert.deepEqual(forVersion(INSTALLER_2018), ['-rtsp_transport', 'tcp', '-stimeout', '5000000']);
    for (const version of ['5.1.6-0+deb12u1', '6.1.1', '7.1.1', 'n7.0', 'N-113000-g4a3d3c5e6f']) {
      assert.deepEqual(forVersion(`ffmpeg version ${version} Copyright`), ['-rtsp_transport', 'tcp', '-timeout', '5000000'], version);
    }
    assert.deepEqual(rtspInputArgs({ major: 5 }), ['-rtsp_transport', 'tcp', '-timeout', '5000000'], 'default timeout: 5 s');
    assert.deepEqual(mjpegInputArgs(), ['-f', 'mpjpeg']);
  });

  it("finds ffmpeg's own first error line in its stderr", () => {
    // Debian's 5.1 given the 4.x option: the failure issue 15 saw only in the server's log.
    assert.equal(firstFfmpegError("Unrecognized option 'stimeout'.\nError splitting the argument list: Option not found\n"), "Unrecognized option 'stimeout'.");
    assert.equal(
      firstFfmpegError('[tcp @ 0x55c25c0fb840] Connection to tcp://127.0.0.1:9?timeout=5000000 failed: Connection refused\nrtsp://admin:pw@127.0.0.1:9/x: Connection refused\n'),
      'Connection to tcp://127.0.0.1:9?timeout=5000000 failed: Connection refused',
    );
    assert.equal(
      firstFfmpegError('[rtsp @ 0x20aa9e40] method DESCRIBE failed: 401 Unauthorized\nrtsp://admin:pw@cam/x: Server returned 401 Unauthorized (authorization failed)\n'),
      'method DESCRIBE failed: 401 Unauthorized',
    );
    // A file that is not a video: warnings first, then the error.
    assert.equal(
      firstFfmpegError(
        '[mov,mp4,m4a,3gp,3g2,mj2 @ 0xdb20c00] Format mov,mp4,m4a,3gp,3g2,mj2 detected only with low score of 1, misdetection possible!\n' +
          '[mov,mp4,m4a,3gp,3g2,mj2 @ 0xdb20c00] moov atom not found\n/tmp/x.mp4: Invalid data found when processing input\n',
      ),
      'moov atom not found',
    );
    // Informational output (banner, stream listing, progress) is never the answer.
    assert.equal(
      firstFfmpegError(
        "ffmpeg version 5.1.6 Copyright\nInput #0, rtsp, from 'rtsp://cam/x':\n  Metadata:\n    title           : cam\n  Duration: N/A, start: 0.000000, bitrate: N/A\n" +
          '  Stream #0:0: Video: h264, yuv420p, 640x360, 10 fps\nframe=  100 fps= 10 q=-0.0 size=N/A time=00:00:10.00\r' +
          '[rtsp @ 0x1] RTP: PT=60: bad cseq 0000 expected=a000\nrtsp://cam/x: Operation timed out\n',
      ),
      'rtsp://cam/x: Operation timed out',
    );
    assert.equal(firstFfmpegError(''), undefined);
    assert.equal(firstFfmpegError('Input #0, mov\n  Stream #0:0: Video: h264\n'), undefined);
  });

  it('no ffmpeg where the settings point: one error, nothing to retry, the fix first and what was tried', () => {
    assert.throws(
      () => requireFfmpeg({ FFMPEG_PATH: '/nonexistent/ffmpeg', PATH: '' }),
      (error: RoboflowError) => {
        assert.equal(error.code, 'invalid-input');
        assert.match(error.message, /^ffmpeg not found: install it \(apt install ffmpeg\), or set FFMPEG_PATH \(FFMPEG_PATH: \/nonexistent\/ffmpeg does not exist\)/);
        return true;
      },
    );
  });
});
