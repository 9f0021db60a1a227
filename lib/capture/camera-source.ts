import { RoboflowError } from '../errors';
import { mjpegInputArgs, rtspInputArgs, type FfmpegBinary } from '../media/ffmpeg';
import { redact } from '../redact';

/**
 * A camera read on this machine (local capture): the host opens it with ffmpeg and sends
 * its frames to Roboflow on the WebRTC video track, so Roboflow's server never has to
 * reach a camera on the user's network.
 */
export type CameraSource =
  /** A network camera or stream: rtsp(s)://, rtmp(s)://, an HLS playlist (http(s)://….m3u8), or any URL ffmpeg opens. */
  | { kind: 'url'; url: string; transport?: 'tcp' | 'udp' }
  /** An HTTP(S) MJPEG camera (multipart/x-mixed-replace). */
  | { kind: 'mjpeg'; url: string }
  /** A USB / V4L2 device such as /dev/video0. */
  | { kind: 'device'; path: string }
  /** A video file played at its own rate as if it were a camera (for testing a flow). */
  | { kind: 'file'; path: string; loop?: boolean };

export const HWACCELS = ['auto', 'none', 'vaapi', 'qsv', 'cuda', 'v4l2m2m'] as const;
export type Hwaccel = (typeof HWACCELS)[number];

export interface CaptureSettings {
  /** Frames per second sent at most (the camera's own rate when lower). Default 10. */
  maxFps: number;
  /** Longest side in pixels, aspect kept, even dimensions. Default 1280. */
  maxSize: number;
  /** Hardware decoding; `none` decodes in software. Default `none`. */
  hwaccel: Hwaccel;
  /** A camera silent this long (connect or read) ends the read, in ms. Default 10,000. */
  socketTimeoutMs: number;
}

export const DEFAULT_CAPTURE: CaptureSettings = { maxFps: 10, maxSize: 1280, hwaccel: 'none', socketTimeoutMs: 10_000 };

/** Checks settings from outside (node properties); throws with what to fix. */
export function captureSettings(input: Partial<Record<keyof CaptureSettings, unknown>>): CaptureSettings {
  const number = (value: unknown, fallback: number, name: string, min: number, max: number): number => {
    if (value === undefined || value === null || value === '') return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) throw new RoboflowError('invalid-input', `${name} must be a number from ${min} to ${max} (got ${String(value)})`);
    return parsed;
  };
  const hwaccel = input.hwaccel === undefined || input.hwaccel === '' ? DEFAULT_CAPTURE.hwaccel : String(input.hwaccel);
  if (!(HWACCELS as readonly string[]).includes(hwaccel)) throw new RoboflowError('invalid-input', `Hardware decoding must be one of ${HWACCELS.join(', ')} (got ${hwaccel})`);
  return {
    maxFps: number(input.maxFps, DEFAULT_CAPTURE.maxFps, 'Max frame rate', 0.1, 60),
    maxSize: Math.round(number(input.maxSize, DEFAULT_CAPTURE.maxSize, 'Max size', 64, 7680)),
    hwaccel: hwaccel as Hwaccel,
    socketTimeoutMs: number(input.socketTimeoutMs, DEFAULT_CAPTURE.socketTimeoutMs, 'Camera timeout', 100, 600_000),
  };
}

/** The source as a user would name it, never with a password. */
export function describeCamera(source: CameraSource): string {
  return source.kind === 'device' || source.kind === 'file' ? source.path : redact(source.url);
}

/** Refuses what cannot be a camera before any process starts. */
export function validateCamera(source: CameraSource): void {
  if (source.kind === 'url') {
    if (!/^(rtsps?|rtmps?|https?|srt|udp|tcp):\/\/[^\s/]+/i.test(source.url ?? '')) {
      throw new RoboflowError('invalid-input', `Invalid camera URL "${redact(String(source.url ?? ''))}": use rtsp://, rtsps://, rtmp:// or an http(s):// HLS playlist`);
    }
  } else if (source.kind === 'mjpeg') {
    if (!/^https?:\/\/[^\s/]+/i.test(source.url ?? '')) throw new RoboflowError('invalid-input', `Invalid MJPEG URL "${redact(String(source.url ?? ''))}": it must start with http:// or https://`);
  } else if (source.kind === 'device' || source.kind === 'file') {
    if (typeof source.path !== 'string' || !source.path.trim())
      throw new RoboflowError('invalid-input', source.kind === 'device' ? 'Set the camera device, e.g. /dev/video0' : 'Set the video file path');
  } else {
    throw new RoboflowError('invalid-input', `Unknown camera source "${(source as { kind: string }).kind}"`);
  }
}

/**
 * Scales to at most `maxSize` on the longest side, keeping the aspect, never up, with
 * even dimensions (I420 halves both for chroma). The quotes keep the expressions'
 * commas from splitting the filter graph.
 */
export function scaleFilter(maxSize: number): string {
  const size = Math.round(maxSize);
  return `scale='if(gte(iw,ih),min(${size},iw),-2)':'if(gte(iw,ih),-2,min(${size},ih))',scale='trunc(iw/2)*2':'trunc(ih/2)*2'`;
}

function inputArgs(ffmpeg: Pick<FfmpegBinary, 'major'>, source: CameraSource, settings: CaptureSettings): string[] {
  switch (source.kind) {
    case 'url': {
      if (/^rtsps?:/i.test(source.url)) return [...rtspInputArgs(ffmpeg, { socketTimeoutMs: settings.socketTimeoutMs, transport: source.transport ?? 'tcp' }), '-i', source.url];
      // rtmp, HLS and the rest: ffmpeg's socket timeout for these protocols is `-rw_timeout` (µs), the same in every version.
      return ['-rw_timeout', String(settings.socketTimeoutMs * 1000), '-i', source.url];
    }
    case 'mjpeg':
      return [...mjpegInputArgs(), '-rw_timeout', String(settings.socketTimeoutMs * 1000), '-i', source.url];
    case 'device':
      return ['-f', 'v4l2', '-i', source.path];
    case 'file':
      // Played at its own rate, as a camera would deliver it.
      return ['-re', ...(source.loop ? ['-stream_loop', '-1'] : []), '-i', source.path];
  }
}

/**
 * The ffmpeg command line of a local capture, for the ffmpeg found: decode, drop to the
 * frame rate asked for, scale, and write raw I420 frames to stdout (no JPEG or RGBA
 * step: the frames go to the WebRTC video source as they are).
 */
export function captureArgs(ffmpeg: Pick<FfmpegBinary, 'major'>, source: CameraSource, settings: CaptureSettings, hwaccel: Hwaccel = settings.hwaccel): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    // A live camera should start in about a second, not after five of probing.
    '-probesize',
    '1000000',
    '-analyzeduration',
    '1000000',
    ...(hwaccel === 'none' ? [] : ['-hwaccel', hwaccel]),
    ...inputArgs(ffmpeg, source, settings),
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `fps=${settings.maxFps},${scaleFilter(settings.maxSize)}`,
    '-pix_fmt',
    'yuv420p',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
}
