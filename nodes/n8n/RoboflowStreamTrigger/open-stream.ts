import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ITriggerFunctions } from 'n8n-workflow';
import { HttpClient, ResilientStream, type Logger, type ResilientState, type ResilientStreamEvents, type RoboflowConnection, type StreamSource, type TypedEmitter } from '../../../lib';
import { withCameraLogin } from '../../../lib';
import { checkVideoPath } from '../shared/files';
import type { TriggerSettings } from './settings';

/** What the trigger uses of a ResilientStream (a fake in the fast tests). */
export type TriggerStream = Pick<TypedEmitter<ResilientStreamEvents>, 'on' | 'off' | 'once'> & {
  readonly state: ResilientState;
  start(): void;
  stop(): Promise<void>;
};

/** A stream and everything opened for it; `close` ends all of it, once, however often it is called. */
export interface StreamHandle {
  stream: TriggerStream;
  close(): Promise<void>;
}

export type OpenStream = (settings: TriggerSettings, connection: RoboflowConnection, logger: Logger) => Promise<StreamHandle>;

/** n8n's logger as the engine's. */
export function loggerOf(context: ITriggerFunctions): Logger {
  return {
    debug: (message) => context.logger.debug(message),
    info: (message) => context.logger.info(message),
    warn: (message) => context.logger.warn(message),
    error: (message) => context.logger.error(message),
  };
}

/** Runs `action` once; later calls get the same promise. */
export function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
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
  return { kind: settings.source, url: withCameraLogin(settings.target, settings.cameraLogin) };
}

/**
 * The real stream: the source checked (a file inside n8n's allowed folders, a video URL
 * downloaded, a camera login put into the URL), one HTTP client for the session, and a
 * ResilientStream that is not started yet. Nothing stays open when this throws.
 */
export const openStream: OpenStream = async (settings, connection, logger) => {
  const http = new HttpClient({ apiKey: connection.apiKey, logger });
  let workDir: string | undefined;
  const release = async (): Promise<void> => {
    await http.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  };
  let source: StreamSource | undefined;
  try {
    source = await sourceOf(settings, http, (dir) => (workDir = dir));
  } finally {
    // Nothing may stay open when the source cannot be had.
    if (!source) await release();
  }
  const stream = new ResilientStream({
    connection,
    http,
    workflow: settings.workflow,
    source,
    imageInput: settings.imageInput,
    dataOutputs: settings.dataOutputs.length > 0 ? settings.dataOutputs : ['*'],
    streamOutputs: [],
    parameters: settings.parameters,
    processingTimeout: settings.processingTimeout,
    ...(settings.disableSinks ? { disableSinks: true } : {}),
    ...(settings.realtime === undefined ? {} : { realtime: settings.realtime }),
    logger,
  });
  return {
    stream,
    // The stream first (a session still connecting is let finish and closed, so the
    // server ends its worker), then the HTTP client it used: never the other way round.
    close: once(async () => {
      await stream.stop();
      await release();
    }),
  };
};
