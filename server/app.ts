import { rmSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BEHAVIOUR, copyBehaviour, type Behaviour } from './behaviour';
import type { ServerContext } from './context';
import { HttpError, sendJson, Router } from './http';
import { describeFfmpeg, findFfmpeg, requireFfmpeg } from '../lib/media/ffmpeg';
import { killAllChildren } from './media/children';
import { generateSceneVideo } from './media/generate';
import { RtspCameraServer } from './media/rtsp-camera';
import { getScene } from './media/scenes';
import { addInferenceRoutes } from './routes/inference';
import { addBatchProcessingRoutes } from './routes/batch-processing';
import { addLocalRoutes, armCrash } from './routes/local';
import { addModelRoutes } from './routes/models';
import { addPipelineRoutes } from './routes/pipelines';
import { addVideoJobRoutes } from './routes/video-jobs';
import { addVisionEventRoutes } from './routes/vision-events';
import { addWebrtcRoutes } from './routes/webrtc';
import { VisionEventStore } from './vision-events';
import { SessionRegistry } from './webrtc/registry';
import { WorkerHost } from './webrtc/worker-host';
import { redact, registerSecret } from '../lib/redact';

export interface LocalServerOptions {
  /** 0 = any free port. */
  port?: number;
  host?: string;
  /** The one key accepted. Default `local-dev-key`. */
  apiKey?: string;
  behaviour?: Partial<Behaviour>;
  /** Serve simulated RTSP cameras on this port (0 = any); undefined = no RTSP. */
  rtspPort?: number;
  /** Require these credentials from RTSP viewers. */
  rtspAuth?: { username: string; password: string };
  /** Camera names (scene names) to simulate. Default: door, two-squares. */
  cameras?: string[];
  /** Use cases that exist from the start (Vision Events). Default: demo. */
  useCases?: string[];
  /** Where uploads, jobs and generated media go; a fresh temp dir by default (removed on close). */
  dataDir?: string;
  log?: (line: string) => void;
}

export interface LocalServer {
  url: string;
  port: number;
  apiKey: string;
  /** Change behaviour/faults in process (tests); same as POST /local/faults. */
  behaviour: Behaviour;
  sessions: SessionRegistry;
  visionEvents: VisionEventStore;
  rtsp?: RtspCameraServer;
  /** Camera name -> generated video file. */
  cameraFiles: Map<string, string>;
  close(): Promise<void>;
  /**
   * Last-moment cleanup when the process is going down anyway (an uncaught error, a
   * forced exit): kills every child process and removes the temp data dir, synchronously.
   */
  closeNow(): void;
}

const VERSION = '0.1.0';

/**
 * Starts the local Roboflow-compatible server: streaming (WebRTC), video jobs and
 * Vision Events on one HTTP port, plus simulated cameras (MJPEG on the same port,
 * RTSP on its own port when asked).
 */
export async function createLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  // Everything the server logs passes the package's one redaction helper: ffmpeg's
  // errors quote camera URLs with their passwords, and a request may echo a key.
  const sink = options.log ?? (() => undefined);
  const log = (line: string): void => sink(redact(line));
  const ownsDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'roboflow-local-')));
  await mkdir(dataDir, { recursive: true });
  const initialBehaviour: Behaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour, failNext: { ...options.behaviour?.failNext } };
  const behaviour = copyBehaviour(initialBehaviour);
  const apiKey = options.apiKey ?? 'local-dev-key';
  registerSecret(apiKey);
  let baseUrl = '';
  const context: ServerContext = { apiKey, behaviour, baseUrl: () => baseUrl, dataDir, log };

  const ffmpeg = findFfmpeg();
  if (ffmpeg) log(`using ${describeFfmpeg(ffmpeg)}`);
  const cameraFiles = new Map<string, string>();
  const cameraNames = options.cameras ?? ['door', 'two-squares'];
  if (cameraNames.length > 0 && ffmpeg) {
    for (const name of cameraNames) {
      const file = join(dataDir, `camera-${name}.mp4`);
      await generateSceneVideo(getScene(name), file);
      cameraFiles.set(name, file);
    }
  } else if (cameraNames.length > 0) {
    try {
      requireFfmpeg();
    } catch (error) {
      log(`${(error as Error).message} Cameras, video files and video jobs are unavailable.`);
    }
  }
  let rtsp: RtspCameraServer | undefined;
  if (options.rtspPort !== undefined && cameraFiles.size > 0) {
    rtsp = new RtspCameraServer({
      port: options.rtspPort,
      host: options.host,
      cameras: [...cameraFiles].map(([name, file]) => ({ name, file })),
      auth: options.rtspAuth,
      workDir: dataDir,
      log,
    });
    await rtsp.start();
  }

  // Streaming sessions run in a worker process of their own (see worker-host.ts).
  const workerHost = new WorkerHost(behaviour, log);
  workerHost.warmUp();
  const sessions = new SessionRegistry(workerHost);
  const visionEvents = new VisionEventStore(options.useCases ?? ['demo']);
  const router = new Router();
  // Requests per route name since start (or the last reset): how tests and benchmarks
  // see how often a client asked, e.g. retries after a 429 or requests per 100 events.
  const requestCounts = new Map<string, number>();
  const { manager: pipelines } = addPipelineRoutes(router, context, () => [...cameraFiles.values()]);
  addWebrtcRoutes(router, context, sessions, workerHost, pipelines);
  const { runner } = addVideoJobRoutes(router, context);
  const { service: batchProcessing } = addBatchProcessingRoutes(router, context);
  addVisionEventRoutes(router, context, visionEvents);
  addLocalRoutes(router, context, { sessions, workerHost, cameraFiles, rtsp: () => rtsp, behaviour, initialBehaviour, requestCounts, version: VERSION });
  addModelRoutes(router, context);
  addInferenceRoutes(router, context);

  const server: Server = createServer((req, res) => {
    // No request may end the server: a target that is not a URL (`GET http://[`) or a
    // path that does not decode (`%E0%A4%A`) is a bad request, nothing more.
    let url: URL;
    let found: ReturnType<Router['match']>;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      found = router.match(req.method ?? 'GET', url.pathname);
    } catch (error) {
      sendJson(res, 400, { message: `Bad request: ${(error as Error).message}` });
      return;
    }
    if (!found) {
      sendJson(res, 404, { message: `Not found: ${req.method} ${url.pathname}` });
      return;
    }
    if ('allowed' in found) {
      sendJson(res, 405, { message: `Method not allowed (use ${found.allowed.join(', ')})` }, { allow: found.allowed.join(', ') });
      return;
    }
    requestCounts.set(found.route.name, (requestCounts.get(found.route.name) ?? 0) + 1);
    // Handlers may throw synchronously (key checks): run them inside the promise chain.
    Promise.resolve()
      .then(() => found.route.handler(req, res, found.params, url))
      .catch((error: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (error instanceof HttpError && error.page !== undefined) {
          res.writeHead(error.status, { 'content-type': 'text/html', ...error.headers }).end(error.page);
          return;
        }
        if (error instanceof HttpError) {
          sendJson(res, error.status, error.body, error.headers);
          return;
        }
        log(`${req.method} ${url.pathname} failed: ${(error as Error).stack ?? String(error)}`);
        sendJson(res, 500, { message: `Internal error: ${(error as Error).message}` });
      });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;
  if (initialBehaviour.crashAfterMs > 0) armCrash(initialBehaviour.crashAfterMs, log);

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    apiKey,
    behaviour,
    sessions,
    visionEvents,
    rtsp,
    cameraFiles,
    close() {
      closing ??= (async () => {
        sessions.endAll('server shutting down');
        pipelines.closeAll();
        runner.close();
        batchProcessing.close();
        await workerHost.close();
        await rtsp?.stop();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        killAllChildren();
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
    closeNow() {
      workerHost.closeNow();
      killAllChildren();
      if (ownsDataDir) {
        try {
          rmSync(dataDir, { recursive: true, force: true });
        } catch {
          // Nothing more can be done on the way out.
        }
      }
    },
  };
}
