import { strict as assert } from 'node:assert';
import { DEFAULT_CAPTURE, captureArgs, captureSettings, type CameraSource } from '../../lib/capture/camera-source';

/** The input part of a capture's command line: everything before `-an`. */
function input(source: CameraSource, major = 5, hwaccel = DEFAULT_CAPTURE.hwaccel): string[] {
  const args = captureArgs({ major }, source, DEFAULT_CAPTURE, hwaccel);
  return args.slice(args.indexOf('-analyzeduration') + 2, args.indexOf('-an'));
}

/**
 * What ffmpeg is asked to open for each kind of camera. A USB camera cannot be attached to
 * a CI machine (no v4l2loopback), so its command line is checked here and the missing-device
 * error end to end in test/node-red/capture.test.ts.
 */
describe('local capture: the ffmpeg command line per camera', () => {
  it('a USB / V4L2 device is opened with the v4l2 demuxer', () => {
    assert.deepEqual(input({ kind: 'device', path: '/dev/video0' }), ['-f', 'v4l2', '-i', '/dev/video0']);
  });

  it('RTSP over TCP by default, with the socket timeout option of the ffmpeg found (-stimeout before 5, -timeout after)', () => {
    const url = 'rtsp://cam:pw@10.0.0.2/stream';
    assert.deepEqual(input({ kind: 'url', url }, 4), ['-rtsp_transport', 'tcp', '-stimeout', '10000000', '-i', url]);
    assert.deepEqual(input({ kind: 'url', url, transport: 'udp' }, 5), ['-rtsp_transport', 'udp', '-timeout', '10000000', '-i', url]);
  });

  it('MJPEG, HLS, and a file played at its own rate (looping when asked)', () => {
    assert.deepEqual(input({ kind: 'mjpeg', url: 'http://cam/video.mjpg' }), ['-f', 'mpjpeg', '-rw_timeout', '10000000', '-i', 'http://cam/video.mjpg']);
    assert.deepEqual(input({ kind: 'url', url: 'https://host/live.m3u8' }), ['-rw_timeout', '10000000', '-i', 'https://host/live.m3u8']);
    assert.deepEqual(input({ kind: 'file', path: '/v.mp4', loop: true }), ['-re', '-stream_loop', '-1', '-i', '/v.mp4']);
    assert.deepEqual(input({ kind: 'file', path: '/v.mp4' }), ['-re', '-i', '/v.mp4']);
  });

  it('hardware decoding goes before the input; frames leave as raw I420 at the rate and size asked', () => {
    const settings = captureSettings({ maxFps: 5, maxSize: 640 });
    const args = captureArgs({ major: 5 }, { kind: 'device', path: '/dev/video2' }, settings, 'vaapi');
    assert.ok(args.indexOf('-hwaccel') < args.indexOf('-i'));
    assert.equal(args[args.indexOf('-hwaccel') + 1], 'vaapi');
    assert.match(args[args.indexOf('-vf') + 1], /^fps=5,.*min\(640,iw\)/);
    assert.deepEqual(args.slice(-5), ['-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1']);
    assert.ok(!captureArgs({ major: 5 }, { kind: 'device', path: '/dev/video2' }, settings, 'none').includes('-hwaccel'));
  });
});
