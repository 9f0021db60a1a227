import { spawn, type ChildProcess } from 'node:child_process';
import { RoboflowError, toRoboflowError } from '../errors';
import { TypedEmitter } from '../events';
import { firstFfmpegError, requireFfmpeg, type FfmpegBinary } from '../media/ffmpeg';
import { redact } from '../redact';
import { i420Size } from '../stream/wrtc';
import { captureArgs, describeCamera, validateCamera, type CameraSource, type CaptureSettings, type Hwaccel } from './camera-source';

export interface CameraInfo {
  /** The camera's own picture, when ffmpeg said. */
  input?: { width: number; height: number; fps?: number };
  /** What is sent: at most the configured size and rate. */
  output: { width: number; height: number };
  fps: number;
  /** The decoder in use: `none` after a fall-back from a refused hardware decoder. */
  hwaccel: Hwaccel;
  ffmpeg: string;
}

/** One I420 frame as it came out of ffmpeg. The buffer is the listener's to keep. */
export interface CapturedFrame {
  width: number;
  height: number;
  data: Buffer;
  /** When the frame was read (ms since the epoch). */
  capturedAt: number;
}

export interface LocalCameraEvents {
  open: [CameraInfo];
  frame: [CapturedFrame];
  /** Something the user should know once (a refused hardware decoder). */
  warning: [string];
  /** The read ended: `error` unless a file played to its end (or stop() was called). */
  end: [{ error?: RoboflowError }];
}

const SIZE = /,\s*(\d{2,5})x(\d{2,5})[\s,[]/;
const FPS = /(\d+(?:\.\d+)?) (?:fps|tbr)/;
const HWACCEL_REFUSED =
  /hwaccel|hw_device|device creation|device setup|Failed to (?:create|initiali[sz]e|open)[^:]*(?:device|va|cuda|qsv|decoder)|vaapi|cuda|qsv|v4l2m2m|No device available|Cannot load/i;

/**
 * Classifies why a read ended. A login or a path that is wrong will be wrong again:
 * those end the stream with an error the user must fix; anything else (refused, timed
 * out, the camera rebooting) is worth another try.
 */
export function cameraError(source: CameraSource, line: string | undefined, code: number | null): RoboflowError {
  const said = line ? redact(line) : `ffmpeg exited with ${code}`;
  const where = describeCamera(source);
  if (/\b401\b|unauthori[sz]ed|\b403\b|forbidden/i.test(said)) {
    return new RoboflowError('invalid-input', `Camera login rejected: check the camera user and password (${said})`);
  }
  if (/\b404\b|not found|No such file|does not exist/i.test(said)) {
    return new RoboflowError('invalid-input', `Camera not found at ${where}: check the URL, path or device (${said})`);
  }
  if ((source.kind === 'file' || source.kind === 'device') && /Invalid data found|could not find codec|Permission denied/i.test(said)) {
    return new RoboflowError('invalid-input', `${where} cannot be read as video (${said})`);
  }
  return new RoboflowError('camera', `Camera not reachable: ${said}`, { retryable: true });
}

/**
 * One read of a camera on this machine: an ffmpeg process decoding the source straight
 * to raw I420 at the size and rate asked for, frames handed on as they come (nothing
 * queues here: the pipe is the only buffer, so a slow consumer slows ffmpeg rather than
 * growing memory). Reconnecting is the caller's job (CapturedStream). A refused
 * hardware decoder falls back to software once, with a warning. stop() kills ffmpeg; so
 * does the end of this process (ffmpeg's next write hits a closed pipe).
 */
export class LocalCamera extends TypedEmitter<LocalCameraEvents> {
  private child: ChildProcess | undefined;
  private ffmpeg: FfmpegBinary | undefined;
  private hwaccel: Hwaccel;
  private info: CameraInfo | undefined;
  private pending: Buffer | undefined;
  private filled = 0;
  private early: Buffer[] = [];
  private stopped = false;
  private ended = false;
  private stderr = '';
  private framesRead = 0;

  constructor(
    readonly source: CameraSource,
    private readonly settings: CaptureSettings,
  ) {
    super();
    this.hwaccel = settings.hwaccel;
  }

  /** Frames read by this run. */
  get frames(): number {
    return this.framesRead;
  }

  private exited: Promise<void> = Promise.resolve();

  /** The ffmpeg process, while it runs (tests count them). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    try {
      validateCamera(this.source);
    } catch (error) {
      queueMicrotask(() => this.finish(error as RoboflowError));
      return;
    }
    try {
      this.ffmpeg = requireFfmpeg();
    } catch (error) {
      // Nothing to retry (invalid-input): the user must install ffmpeg; the error says how.
      queueMicrotask(() => this.finish(toRoboflowError(error, 'invalid-input')));
      return;
    }
    this.spawn();
  }

  /**
   * Stops reading; resolves once ffmpeg has exited, so a node that closed has nothing left
   * running (bounded: a process not gone within 3 s is left to the kernel).
   */
  stop(): Promise<void> {
    if (this.stopped) return this.exited;
    this.stopped = true;
    const child = this.child;
    if (child?.exitCode === null && child.signalCode === null) {
      this.exited = new Promise((resolve) => {
        const timer = setTimeout(resolve, 3_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      child.kill('SIGKILL');
    }
    this.finish();
    return this.exited;
  }

  private spawn(): void {
    const ffmpeg = this.ffmpeg as FfmpegBinary;
    this.info = undefined;
    this.pending = undefined;
    this.filled = 0;
    this.early = [];
    this.stderr = '';
    const child = spawn(ffmpeg.path, captureArgs(ffmpeg, this.source, this.settings, this.hwaccel), { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    this.child = child;
    let inputSize: CameraInfo['input'];
    let section: 'input' | 'output' | 'none' = 'none';
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-8_000);
      if (this.info) return;
      const lines = (partial + text).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('Input #')) section = 'input';
        else if (line.startsWith('Output #')) section = 'output';
        if (!/Stream #\d+:\d+.*Video:/.test(line)) continue;
        const size = SIZE.exec(line);
        if (section === 'input' && size && !inputSize) {
          const fps = FPS.exec(line);
          inputSize = { width: Number(size[1]), height: Number(size[2]), ...(fps ? { fps: Number(fps[1]) } : {}) };
        } else if (section === 'output' && size) {
          this.opened({
            ...(inputSize ? { input: inputSize } : {}),
            output: { width: Number(size[1]), height: Number(size[2]) },
            fps: this.settings.maxFps,
            hwaccel: this.hwaccel,
            ffmpeg: ffmpeg.version,
          });
        }
      }
    });
    child.stdout?.on('data', (chunk: Buffer) => this.consume(chunk));
    child.on('error', (error) => this.finish(new RoboflowError('invalid-input', `ffmpeg could not be started (${ffmpeg.path}): ${error.message}`)));
    child.on('close', (code) => {
      if (this.child !== child || this.stopped) return;
      const line = firstFfmpegError(this.stderr);
      if (!this.info && this.hwaccel !== 'none' && HWACCEL_REFUSED.test(this.stderr)) {
        // The device refused the hardware decoder: software decoding always works.
        this.emit('warning', `Hardware decoding (${this.hwaccel}) was refused (${redact(line ?? 'no reason given')}); decoding in software`);
        this.hwaccel = 'none';
        this.spawn();
        return;
      }
      // A file played to its end is the one clean end.
      if (code === 0 && this.source.kind === 'file' && this.info) {
        this.finish();
        return;
      }
      this.finish(cameraError(this.source, code === 0 ? 'the camera ended the stream' : line, code));
    });
  }

  private opened(info: CameraInfo): void {
    this.info = info;
    this.pending = Buffer.allocUnsafe(i420Size(info.output.width, info.output.height));
    this.emit('open', info);
    for (const chunk of this.early.splice(0)) this.consume(chunk);
  }

  private consume(chunk: Buffer): void {
    if (!this.info || !this.pending) {
      // stdout and stderr race: frames may come before the line that says their size.
      this.early.push(chunk);
      return;
    }
    const { width, height } = this.info.output;
    let offset = 0;
    while (offset < chunk.byteLength && !this.stopped) {
      const take = Math.min(this.pending.byteLength - this.filled, chunk.byteLength - offset);
      chunk.copy(this.pending, this.filled, offset, offset + take);
      this.filled += take;
      offset += take;
      if (this.filled === this.pending.byteLength) {
        const data = this.pending;
        this.pending = Buffer.allocUnsafe(data.byteLength);
        this.filled = 0;
        this.framesRead++;
        // Sub-millisecond, still on the epoch: the hand-off delay is usually a fraction of a millisecond.
        this.emit('frame', { width, height, data, capturedAt: performance.timeOrigin + performance.now() });
      }
    }
  }

  private finish(error?: RoboflowError): void {
    if (this.ended) return;
    this.ended = true;
    this.early = [];
    this.emit('end', error ? { error } : {});
  }
}
