import { TypedEmitter, type CapturedStreamEvents, type ResilientState, type RoboflowError, type StreamResult } from '../../lib';
import type { OpenStream, StreamHandle } from '../../nodes/n8n/RoboflowStreamTrigger/open-stream';
import type { TriggerSettings } from '../../nodes/n8n/RoboflowStreamTrigger/settings';

/**
 * A ResilientStream (or, for a camera read on this host, a CapturedStream) stand-in
 * for the Stream Trigger's fast tests: the test decides what happens when it starts and
 * fires the engine's events by hand.
 */
export class FakeStream extends TypedEmitter<CapturedStreamEvents> {
  state: ResilientState = 'idle';
  starts = 0;
  stops = 0;
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
  set(state: ResilientState): void {
    this.state = state;
    this.emit('state', state);
  }
  fire<K extends keyof CapturedStreamEvents & string>(event: K, ...args: CapturedStreamEvents[K]): void {
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
  closes: () => number;
}

/** An openStream that hands out FakeStreams (each set up by `onStart`), with camera events when the settings read the camera here, and counts closes. */
export function fakeOpen(onStart: (stream: FakeStream, index: number) => void = (stream) => stream.set('streaming')): Opened {
  const streams: FakeStream[] = [];
  const settings: TriggerSettings[] = [];
  let closes = 0;
  const open: OpenStream = async (given) => {
    settings.push(given);
    const index = streams.length;
    const stream = new FakeStream((s) => onStart(s, index));
    streams.push(stream);
    let closing: Promise<void> | undefined;
    const handle: StreamHandle = {
      stream,
      ...(given.local ? { camera: stream } : {}),
      close: () =>
        (closing ??= (async () => {
          closes++;
          await stream.stop();
        })()),
    };
    return handle;
  };
  return { open, streams, settings, closes: () => closes };
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
