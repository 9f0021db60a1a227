import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { RoboflowError } from '../errors';

/**
 * The package's one ffmpeg locator, and the one place that knows how ffmpeg versions
 * differ. Every ffmpeg command line (the local server's decoders and cameras, and any
 * client-side capture) is built here for the ffmpeg actually found: its options changed
 * between versions (ffmpeg 5 removed the RTSP demuxer's `-stimeout`; in 4.x `-timeout`
 * meant "wait for an incoming connection"), so a line written for one version fails on
 * another with "Unrecognized option".
 */

export interface FfmpegBinary {
  /** What to spawn: an absolute path, or `ffmpeg` (found on the PATH). */
  path: string;
  /** The version as ffmpeg prints it, e.g. `5.1.6-0+deb12u1`, `n7.0`, `N-47683-g0e8eb07980-static`. */
  version: string;
  /** Major version the command lines are built for (see `parseFfmpegVersion`). */
  major: number;
}

/**
 * The newest major version these builders know. A build whose version says nothing
 * about its release (a git snapshot, `N-113000-g…`, with no library versions printed)
 * is taken to be this new: snapshots are built from the development branch.
 */
export const NEWEST_KNOWN_MAJOR = 8;

/** libavformat's major version for each ffmpeg release line (libavformat 58 = ffmpeg 4.x). */
const LIBAVFORMAT_TO_FFMPEG: Record<number, number> = { 56: 2, 57: 3, 58: 4, 59: 5, 60: 6, 61: 7, 62: 8 };

/**
 * Reads ffmpeg's version from the output of `ffmpeg -version` (or only its first line).
 * Release builds say it directly (`4.1`, `5.1.6-0+deb12u1`, `n7.0`, `7.1.1-essentials_build…`).
 * Git snapshots (`N-47683-g0e8eb07980-static`, the 2018 build shipped by
 * @ffmpeg-installer/ffmpeg) do not: then the libavformat version printed below decides,
 * and without one the build counts as the newest. Undefined when the text is not
 * ffmpeg's version output at all.
 */
export function parseFfmpegVersion(output: string): { version: string; major: number } | undefined {
  const line = /ffmpeg version (\S+)/i.exec(output);
  if (!line) return undefined;
  const version = line[1];
  const release = /^n?(\d+)\.\d+/i.exec(version);
  if (release) return { version, major: Number(release[1]) };
  const lavf = /^\s*libavformat\s+(\d+)\./m.exec(output);
  if (lavf) {
    const libraryMajor = Number(lavf[1]);
    const major = LIBAVFORMAT_TO_FFMPEG[libraryMajor] ?? (libraryMajor > 62 ? libraryMajor - 54 : undefined);
    if (major !== undefined) return { version, major };
  }
  return { version, major: NEWEST_KNOWN_MAJOR };
}

export interface RtspInputOptions {
  /** Give up when the camera's socket is silent this long (connect and read), in ms. Default 5,000. */
  socketTimeoutMs?: number;
  /** RTP over the RTSP TCP connection (default: works through NAT and firewalls) or over UDP. */
  transport?: 'tcp' | 'udp';
}

/**
 * Input options for reading an RTSP camera with this ffmpeg: RTP over the RTSP TCP
 * connection (what Roboflow's workers ask for; works through NAT and firewalls), and a
 * socket timeout so a camera that stops answering ends the read instead of hanging it.
 * The timeout option is the one thing that differs: `-stimeout` (µs) up to ffmpeg 4,
 * `-timeout` (µs) from ffmpeg 5 on. Goes before `-i`.
 */
export function rtspInputArgs(ffmpeg: Pick<FfmpegBinary, 'major'>, options: RtspInputOptions = {}): string[] {
  const micros = String(Math.max(1, Math.round((options.socketTimeoutMs ?? 5_000) * 1000)));
  return ['-rtsp_transport', options.transport ?? 'tcp', ffmpeg.major < 5 ? '-stimeout' : '-timeout', micros];
}

/** Input options for an MJPEG-over-HTTP camera (`multipart/x-mixed-replace`); the same in every version. */
export function mjpegInputArgs(): string[] {
  return ['-f', 'mpjpeg'];
}

/** Lines ffmpeg prints that describe rather than fail: its banner, stream listings, progress. */
const INFORMATIONAL = [
  /^ffmpeg version /i,
  /^(built with|configuration:|lib(avutil|avcodec|avformat|avdevice|avfilter|swscale|swresample|postproc)\s)/i,
  /^(Input|Output) #\d/,
  /^(Metadata|Duration|Stream #|Stream mapping|Chapter|Side data|Press \[q\])/,
  /^(frame|size)=/,
  /^video:\d/,
];

const FAILURE =
  /error|fail|unrecogni[sz]ed|invalid|not found|no such|refused|unauthori[sz]ed|forbidden|timed out|timeout|unreachable|could not|cannot|can't|unable|denied|not supported|unknown|server returned|bad request|reset by peer|end of file|no route/i;

/**
 * ffmpeg's own explanation of a failure: the first line of its stderr that reports an
 * error (`Unrecognized option 'stimeout'.`, `method DESCRIBE failed: 401 Unauthorized`,
 * `Connection to tcp://… failed: Connection refused`, `…: Invalid data found when
 * processing input`), without the `[rtsp @ 0x…]` context prefix. Falls back to the last
 * line that is not informational; undefined when ffmpeg said nothing useful. The line
 * may quote the input URL: redact it before showing it.
 */
export function firstFfmpegError(stderr: string): string | undefined {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((line) => line.replace(/^\s*(\[[^\]]+ @ (0x)?[0-9a-f]+\]\s*)+/i, '').trim())
    .filter((line) => line.length > 0 && !INFORMATIONAL.some((pattern) => pattern.test(line)));
  return lines.find((line) => FAILURE.test(line)) ?? lines[lines.length - 1];
}

/** Where an ffmpeg may be: `FFMPEG_PATH`, then the optional `@ffmpeg-installer/ffmpeg` binary, then the PATH. */
function candidates(env: NodeJS.ProcessEnv): Array<{ path: string; origin: string }> {
  if (env.FFMPEG_PATH) return [{ path: env.FFMPEG_PATH, origin: 'FFMPEG_PATH' }];
  const found: Array<{ path: string; origin: string }> = [];
  try {
    // An optional package (a dev dependency of this repository; users may install it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const installer = require('@ffmpeg-installer/ffmpeg') as { path?: unknown };
    if (typeof installer.path === 'string' && installer.path) found.push({ path: installer.path, origin: '@ffmpeg-installer/ffmpeg' });
  } catch {
    // Not installed: the PATH is next.
  }
  found.push({ path: 'ffmpeg', origin: 'PATH' });
  return found;
}

/** Runs `<path> -version` once (with `env`: its PATH finds a bare `ffmpeg`); the binary and its version, or why it is unusable. */
export function probeFfmpeg(path: string, env: NodeJS.ProcessEnv = process.env): FfmpegBinary | { problem: string } {
  if (path.includes('/') && !existsSync(path)) return { problem: `${path} does not exist` };
  const probe = spawnSync(path, ['-version'], { encoding: 'utf8', timeout: 10_000, windowsHide: true, env });
  if (probe.error) return { problem: `${path} could not be run: ${probe.error.message}` };
  if (probe.status !== 0) return { problem: `${path} -version exited with ${probe.status ?? probe.signal}` };
  const parsed = parseFfmpegVersion(probe.stdout);
  if (!parsed) return { problem: `${path} -version did not print an ffmpeg version` };
  return { path, ...parsed };
}

interface Located {
  found: FfmpegBinary | null;
  problems: string[];
}

let cached: Located | undefined;

/**
 * The ffmpeg to use, asked for its version once per process; null when none works.
 * An `FFMPEG_PATH` that does not work is not silently replaced by another ffmpeg.
 */
export function findFfmpeg(): FfmpegBinary | null {
  return locate().found;
}

function locate(): Located {
  cached ??= search(process.env);
  return cached;
}

function search(env: NodeJS.ProcessEnv): Located {
  const problems: string[] = [];
  for (const candidate of candidates(env)) {
    const result = probeFfmpeg(candidate.path, env);
    if (!('problem' in result)) return { found: result, problems };
    problems.push(`${candidate.origin}: ${result.problem}`);
  }
  return { found: null, problems };
}

/**
 * The ffmpeg to use, or the one error that says how to get one (nothing to retry: the
 * user must install it). Its first clause is the fix, so the short form a node's status
 * shows ("ffmpeg not found: install it (apt install ffmpeg)") keeps it; what was tried
 * follows in parentheses. `env` (tests, a changed setting): look again as it says,
 * instead of the answer cached for this process.
 */
export function requireFfmpeg(env?: NodeJS.ProcessEnv): FfmpegBinary {
  const { found, problems } = env ? search(env) : locate();
  if (found) return found;
  throw new RoboflowError(
    'invalid-input',
    `ffmpeg not found: install it (apt install ffmpeg), or set FFMPEG_PATH (${problems.join('; ')}). ` +
      'Video files, RTSP and MJPEG cameras need it; `npm install @ffmpeg-installer/ffmpeg` also provides one.',
  );
}

/** One line for logs: `ffmpeg 5.1.6-0+deb12u1 (/usr/bin/ffmpeg)`. */
export function describeFfmpeg(ffmpeg: FfmpegBinary): string {
  return `ffmpeg ${ffmpeg.version} (${ffmpeg.path})`;
}
