import type { ChildProcess } from 'node:child_process';
import { firstFfmpegError, requireFfmpeg } from '../../lib/media/ffmpeg';
import { spawnChild } from './children';

export interface RgbaFrame {
  width: number;
  height: number;
  /** 4 bytes a pixel, rows top to bottom. */
  rgba: Buffer;
}

export interface DecodedFrame extends RgbaFrame {
  /** 1-based position in the decoded sequence. */
  index: number;
  /** Seconds from the start of the input. */
  seconds: number;
}

export interface StreamInfo {
  width: number;
  height: number;
  /** Frames per second delivered (the input's, or the resampling rate). */
  fps: number;
  /** The input's own frame rate (0 when ffmpeg did not say). */
  sourceFps: number;
  /** The input's duration in seconds (0 for live streams or when unknown). */
  durationSeconds: number;
}

export interface FrameReaderOptions {
  /** A file path or a URL ffmpeg can open (rtsp://, http://). */
  input: string;
  /** Options placed before `-i` (input format, transport, timeouts). */
  inputArgs?: string[];
  /** Resample to this many frames per second (video jobs' infer_fps). */
  fps?: number;
  /** Read at the input's native rate (a live camera), not as fast as possible. */
  nativeRate?: boolean;
}

export interface FrameReaderHandlers {
  onInfo?(info: StreamInfo): void;
  onFrame(frame: DecodedFrame): void;
  /** Called once: `error` set when ffmpeg failed before the input ended. */
  onEnd(error?: Error): void;
}

const SIZE = /,\s*(\d{2,5})x(\d{2,5})[\s,[]/;

/** ffmpeg failed: the message is ffmpeg's own first error line; the tail of its stderr is kept for logs. */
export class FfmpegFailure extends Error {
  constructor(
    message: string,
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'FfmpegFailure';
  }
}

/**
 * Decodes any video ffmpeg reads into RGBA frames on a pipe. Pausing stops reading
 * the pipe, which stops ffmpeg: memory stays bounded however slow the consumer is.
 */
export class FrameReader {
  private child: ChildProcess | undefined;
  private info: StreamInfo | undefined;
  private pending: Buffer | undefined;
  private filled = 0;
  private index = 0;
  private ended = false;
  private stderrTail = '';
  private stopped = false;
  /** Output that arrived before ffmpeg's stream description was read (the pipes race). */
  private early: Buffer[] = [];

  constructor(
    private readonly options: FrameReaderOptions,
    private readonly handlers: FrameReaderHandlers,
  ) {}

  start(): void {
    const ffmpeg = requireFfmpeg().path;
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'info'];
    if (this.options.nativeRate) args.push('-re');
    args.push(...(this.options.inputArgs ?? []), '-i', this.options.input, '-an', '-sn');
    if (this.options.fps) args.push('-vf', `fps=${this.options.fps}`);
    args.push('-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1');
    const child = spawnChild(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    let inputFps = 0;
    let duration = 0;
    let section: 'input' | 'output' | 'none' = 'none';
    let partial = '';
    child.stderr?.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      if (this.info) return;
      // Chunks may end mid-line: keep the unfinished line for the next one.
      const lines = (partial + text).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('Input #')) section = 'input';
        else if (line.startsWith('Output #')) section = 'output';
        const time = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(line);
        if (time) duration = Number(time[1]) * 3600 + Number(time[2]) * 60 + Number(time[3]);
        if (!/Stream #\d+:\d+.*Video:/.test(line)) continue;
        if (section === 'input') {
          const fps = /(\d+(?:\.\d+)?) (?:fps|tbr)/.exec(line);
          if (fps) inputFps = Number(fps[1]);
        } else if (section === 'output') {
          const size = SIZE.exec(line);
          if (size) {
            this.info = {
              width: Number(size[1]),
              height: Number(size[2]),
              fps: this.options.fps ?? (inputFps || 30),
              sourceFps: inputFps,
              durationSeconds: duration,
            };
            this.pending = Buffer.allocUnsafe(this.info.width * this.info.height * 4);
            this.handlers.onInfo?.(this.info);
            for (const chunk of this.early.splice(0)) this.consume(chunk);
          }
        }
      }
    });
    child.stdout?.on('data', (chunk: Buffer) => this.consume(chunk));
    child.on('error', (error) => this.finish(error));
    child.on('close', (code, signal) => {
      if (this.stopped) {
        this.finish();
        return;
      }
      if (code === 0 && !this.info) {
        this.finish(new FfmpegFailure('ffmpeg: no video stream in the input', this.stderrTail));
        return;
      }
      if (code === 0) {
        this.finish();
        return;
      }
      const reason = firstFfmpegError(this.stderrTail) ?? `exited with ${code ?? signal}`;
      this.finish(new FfmpegFailure(`ffmpeg: ${reason}`, this.stderrTail));
    });
  }

  pause(): void {
    this.child?.stdout?.pause();
  }

  resume(): void {
    this.child?.stdout?.resume();
  }

  get streamInfo(): StreamInfo | undefined {
    return this.info;
  }

  /** ffmpeg's first error line so far (e.g. while a camera is still being opened). */
  get firstError(): string | undefined {
    return firstFfmpegError(this.stderrTail);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const child = this.child;
    if (child?.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }

  private consume(chunk: Buffer): void {
    if (!this.info || !this.pending) {
      this.early.push(chunk);
      return;
    }
    const frameBytes = this.pending.byteLength;
    let offset = 0;
    while (offset < chunk.byteLength && !this.stopped) {
      const take = Math.min(frameBytes - this.filled, chunk.byteLength - offset);
      chunk.copy(this.pending, this.filled, offset, offset + take);
      this.filled += take;
      offset += take;
      if (this.filled === frameBytes) {
        const rgba = this.pending;
        this.pending = Buffer.allocUnsafe(frameBytes);
        this.filled = 0;
        this.index++;
        this.handlers.onFrame({ index: this.index, seconds: (this.index - 1) / this.info.fps, width: this.info.width, height: this.info.height, rgba });
      }
    }
  }

  private finish(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.onEnd(this.stopped ? undefined : error);
  }
}
