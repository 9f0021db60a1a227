import { TypedEmitter, type CapturedStreamEvents, type PipelineHandle, type PipelineStreamEvents, type ResilientState, type RoboflowError, type StreamResult } from '../../lib';
import type { OpenStream, StreamHandle } from '../../nodes/n8n/RoboflowStreamTrigger/open-stream';
import type { TriggerSettings } from '../../nodes/n8n/RoboflowStreamTrigger/settings';

type FakeEvents = CapturedStreamEvents & PipelineStreamEvents;

/**
 * A ResilientStream (or, for a camera read on this host, a CapturedStream; for a
 * self-hosted pipeline, a PipelineStream) stand-in for the Stream Trigger's fast tests:
 * the test decides what happens when it starts and fires the engine's events by hand.
 */
export class FakeStream extends TypedEmitter<FakeEvents> {
  state: ResilientState = 'idle';
  starts = 0;
  stops = 0;
  /** A pipeline left running on the server (PipelineStream.detach). */
  detaches = 0;
  resumes = 0;
  paused = false;
  /** The pipeline read now (a pipeline's `handle`). */
  handle: PipelineHandle | undefined;
  constructor(public onStart: (stream: FakeStream) => void = () => undefined) {
    super();
  }
  start(): void {
    this.starts++;
    this.set('connecting');
    this.onStart(this);
  }
  async stop(): Promise<void> {
    this.stops++;
    if (this.state !== 'complete' && this.state !== 'failed') this.set('stopped');
  }
  async detach(): Promise<void> {
    this.detaches++;
    if (this.state !== 'complete' && this.state !== 'failed') this.set('stopped');
  }
  async resume(): Promise<void> {
    this.resumes++;
    this.paused = false;
  }
  /** As PipelineStream when a pipeline is its own: `handle` set, then the `pipeline` event. */
  pipelineStarted(handle: PipelineHandle, attached = false, paused = false): void {
    this.handle = handle;
    this.paused = paused;
    this.fire('pipeline', { handle, attached });
  }
  set(state: ResilientState): void {
    this.state = state;
    this.emit('state', state);
  }
  fire<K extends keyof FakeEvents>(event: K, ...args: FakeEvents[K]): void {
    this.emit(event, ...args);
  }
  /** What ResilientStream does when a start is refused for good: error, then failed. */
  refuse(error: RoboflowError): void {
    this.fire('error', error);
    this.set('failed');
  }
  /** What CapturedStream does when the camera cannot be opened for good: state failed, the session stopped, then the error. */
  cameraFails(error: RoboflowError): void {
    this.fire('camera-state', 'failed');
    this.set('stopped');
    this.fire('error', error);
  }
}

export interface Opened {
  open: OpenStream;
  streams: FakeStream[];
  settings: TriggerSettings[];
  /** The pipeline handle each open was given to re-attach to. */
  resumed: Array<PipelineHandle | undefined>;
  closes: () => number;
}

/** An openStream that hands out FakeStreams (each set up by `onStart`), with camera events when the settings read the camera here, and counts closes. */
export function fakeOpen(onStart: (stream: FakeStream, index: number) => void = (stream) => stream.set('streaming')): Opened {
  const streams: FakeStream[] = [];
  const settings: TriggerSettings[] = [];
  const resumed: Array<PipelineHandle | undefined> = [];
  let closes = 0;
  const open: OpenStream = async (given, _connection, _logger, resume) => {
    settings.push(given);
    resumed.push(resume);
    const index = streams.length;
    const stream = new FakeStream((s) => onStart(s, index));
    streams.push(stream);
    let closing: Promise<void> | undefined;
    const handle: StreamHandle = {
      stream,
      ...(given.local ? { camera: stream } : {}),
      ...(given.pipeline ? { pipeline: stream, detach: () => (closing ??= stream.detach()) } : {}),
      close: () =>
        (closing ??= (async () => {
          closes++;
          await stream.stop();
        })()),
    };
    return handle;
  };
  return { open, streams, settings, resumed, closes: () => closes };
}

/** A frame's result with `predictions` persons. */
export function result(frameId: number, predictions: number): StreamResult {
  return {
    frameId,
    data: { predictions: { predictions: Array.from({ length: predictions }, () => ({ class: 'person', x: 1, y: 1, width: 1, height: 1, confidence: 0.9 })) } },
    metadata: { frame_id: frameId, received_at: '2026-01-01T00:00:00Z' },
    errors: [],
  };
}

/** Waits (bounded) for a condition the trigger reaches through its timers. */
export async function until(check: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
