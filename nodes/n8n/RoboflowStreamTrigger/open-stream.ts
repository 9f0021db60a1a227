import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ITriggerFunctions } from 'n8n-workflow';
import {
  CapturedStream,
  HttpClient,
  ResilientStream,
  RoboflowError,
  withCameraLogin,
  type CameraSource,
  type CapturedStreamEvents,
  type CapturedStreamOptions,
  type Logger,
  type ResilientState,
  type ResilientStreamEvents,
  type PipelineHandle,
  type PipelineStreamEvents,
  type ResilientStreamOptions,
  type RoboflowConnection,
  type StreamSource,
  type TypedEmitter,
} from '../../../lib';
import { checkVideoPath } from '../shared/files';
import { openPipeline } from './open-pipeline';
import type { MotionGate } from './camera-settings';
import type { TriggerSettings } from './settings';

/** The node's motion gate as the engine's gate options (what a CapturedStream is built with). */
export function capturedGate(gate: MotionGate): NonNullable<CapturedStreamOptions['gate']> {
  return { mode: 'motion', quietMs: gate.quietMs, preRollMs: gate.preRollMs, holdClasses: gate.holdClasses, motion: { areaThreshold: gate.areaThreshold, mask: gate.mask } };
}

/** What the trigger uses of a ResilientStream or a CapturedStream (a fake in the fast tests). */
export type TriggerStream = Pick<TypedEmitter<ResilientStreamEvents>, 'on' | 'off' | 'once'> & {
  readonly state: ResilientState;
  start(): void;
  stop(): Promise<void>;
};

/** The events of a camera read on this host (CapturedStream), beyond the session's. */
export type CameraEvents = Pick<CapturedStreamEvents, 'camera-open' | 'camera-lost' | 'camera-ended' | 'camera-state' | 'warning' | 'gate'>;
export type TriggerCamera = Pick<TypedEmitter<CameraEvents>, 'on' | 'off'>;

/** The events of a self-hosted pipeline (PipelineStream), beyond the session's. */
export type PipelineEvents = Pick<PipelineStreamEvents, 'pipeline' | 'pipeline-ended' | 'stats' | 'paused'>;
export type TriggerPipeline = Pick<TypedEmitter<PipelineEvents>, 'on' | 'off'> & {
  readonly paused: boolean;
  /** The pipeline read now (undefined while none runs). */
  readonly handle: PipelineHandle | undefined;
  resume(): Promise<void>;
};

/** A stream and everything opened for it; `close` ends all of it, once, however often it is called. */
export interface StreamHandle {
  stream: TriggerStream;
  /** Set when this host reads the camera: its own events (open, lost, gate). */
  camera?: TriggerCamera;
  /** Set for a self-hosted pipeline: its own events, and `detach` (instead of `close`). */
  pipeline?: TriggerPipeline;
  /** Ends everything; a self-hosted pipeline is terminated on the server. */
  close(): Promise<void>;
  /** A self-hosted pipeline only: ends everything here but leaves the pipeline running on the server, to be re-attached. */
  detach?(): Promise<void>;
}

/** `resume`: a pipeline kept by an earlier activation, to re-attach to (self-hosted pipelines only). */
export type OpenStream = (settings: TriggerSettings, connection: RoboflowConnection, logger: Logger, resume?: PipelineHandle) => Promise<StreamHandle>;

/** n8n's logger as the trigger's own: what it says at info level is for the user. */
export function loggerOf(context: ITriggerFunctions): Logger {
  return {
    debug: (message) => context.logger.debug(message),
    info: (message) => context.logger.info(message),
    warn: (message) => context.logger.warn(message),
    error: (message) => context.logger.error(message),
  };
}

/**
 * n8n's logger as the engine's: the engine's step-by-step notes ("reopening 7 in 30 s")
 * at debug level. The trigger says what the user must know at info level, once per
 * outage (see OutageLog), so a camera away for an hour does not write a line a minute.
 */
export function engineLoggerOf(logger: Logger): Logger {
  return { ...logger, info: (message) => logger.debug(message) };
}

/** Runs `action` once; later calls get the same promise. */
export function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
}

/** The camera this host reads: a device, a checked file played as a camera, or a URL with its login. */
async function cameraOf(settings: TriggerSettings): Promise<CameraSource> {
  const loop = settings.local?.loop ?? false;
  if (settings.source === 'device') return { kind: 'device', path: settings.target };
  if (settings.source === 'replay') return { kind: 'file', path: await checkVideoPath(settings.target), loop };
  const url = withCameraLogin(settings.target, settings.cameraLogin);
  if (settings.source === 'mjpeg') return { kind: 'mjpeg', url };
  return { kind: 'url', url, transport: settings.local?.transport ?? 'tcp' };
}

/** The engine's source for the node's: a checked file, a downloaded video, or a camera URL with its login. */
async function sourceOf(settings: TriggerSettings, http: HttpClient, useWorkDir: (dir: string) => void): Promise<StreamSource> {
  if (settings.source === 'videoUrl') {
    const workDir = await mkdtemp(join(tmpdir(), 'roboflow-n8n-'));
    useWorkDir(workDir);
    const path = join(workDir, 'video');
    await http.download(settings.target, path, { operation: 'video-upload', timeoutMs: 120_000 });
    return { kind: 'file', path };
  }
  if (settings.source === 'file') return { kind: 'file', path: await checkVideoPath(settings.target) };
  if (settings.source === 'rtsp' || settings.source === 'mjpeg') return { kind: settings.source, url: withCameraLogin(settings.target, settings.cameraLogin) };
  throw new RoboflowError('invalid-input', `A ${settings.source} source is read on this n8n host, not by Roboflow's server`);
}

/**
 * The real stream: the source checked (a file inside n8n's allowed folders, a video URL
 * downloaded, a camera login put into the URL), one HTTP client for the session, and a
 * stream that is not started yet: a CapturedStream when this host reads the camera
 * (ffmpeg, the optional motion gate), else a ResilientStream. Nothing stays open when
 * this throws.
 */
export const openStream: OpenStream = async (settings, connection, logger, resume) => {
  if (settings.pipeline) return openPipeline(settings, settings.pipeline, connection, logger, resume);
  const http = new HttpClient({ apiKey: connection.apiKey, logger });
  let workDir: string | undefined;
  const release = async (): Promise<void> => {
    await http.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  };
  let source: StreamSource | CameraSource | undefined;
  try {
    source = settings.local ? await cameraOf(settings) : await sourceOf(settings, http, (dir) => (workDir = dir));
  } finally {
    // Nothing may stay open when the source cannot be had.
    if (!source) await release();
  }
  const options: Omit<ResilientStreamOptions, 'source'> = {
    connection,
    http,
    workflow: settings.workflow,
    imageInput: settings.imageInput,
    dataOutputs: settings.dataOutputs.length > 0 ? settings.dataOutputs : ['*'],
    streamOutputs: [],
    parameters: settings.parameters,
    processingTimeout: settings.processingTimeout,
    ...(settings.disableSinks ? { disableSinks: true } : {}),
    ...(settings.realtime === undefined ? {} : { realtime: settings.realtime }),
    logger,
  };
  let stream: ResilientStream | CapturedStream;
  if (settings.local) {
    const { gate } = settings;
    stream = new CapturedStream({
      ...options,
      camera: source as CameraSource,
      capture: settings.local.capture,
      ...(gate ? { gate: capturedGate(gate) } : {}),
    });
  } else {
    stream = new ResilientStream({ ...options, source: source as StreamSource });
  }
  return {
    stream,
    ...(stream instanceof CapturedStream ? { camera: stream } : {}),
    // The stream first (a session still connecting is let finish and closed, so the
    // server ends its worker), then the HTTP client it used: never the other way round.
    close: once(async () => {
      await stream.stop();
      await release();
    }),
  };
};
