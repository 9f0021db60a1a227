import { copyBehaviour, parseBehaviour, type Behaviour } from '../behaviour';
import type { ServerContext } from '../context';
import { HttpError, readJson, sendJson, type Router } from '../http';
import sharp from 'sharp';
import { findFfmpeg, requireFfmpeg } from '../../lib/media/ffmpeg';
import { redactValue } from '../../lib/redact';
import { spawnChild } from '../media/children';
import { SCENES, renderScene } from '../media/scenes';
import type { RtspCameraServer } from '../media/rtsp-camera';
import type { SessionRegistry } from '../webrtc/registry';
import type { WorkerHost } from '../webrtc/worker-host';
import { describeBuiltins } from '../workflows/builtins';

export interface LocalRoutesDeps {
  sessions: SessionRegistry;
  workerHost: WorkerHost;
  /** Camera name -> video file. */
  cameraFiles: Map<string, string>;
  rtsp: () => RtspCameraServer | undefined;
  behaviour: Behaviour;
  initialBehaviour: Behaviour;
  /** Requests per route name, counted by the dispatcher. */
  requestCounts: Map<string, number>;
  version: string;
}

/**
 * The `crashAfterMs` fault: an error no handler catches, thrown from a timer, as a bug
 * in the server would. The process dies; its children and temp dir must die with it.
 */
export function armCrash(ms: number, log: (line: string) => void): void {
  log(`fault: the server will crash in ${ms} ms`);
  setTimeout(() => {
    throw new Error('fault: crashAfterMs');
  }, ms);
}

/**
 * The server's own endpoints under /local: discovery (workflows, cameras), inspection
 * (sessions), fault control, and MJPEG camera streams.
 */
export function addLocalRoutes(router: Router, context: ServerContext, deps: LocalRoutesDeps): void {
  router.add('GET', '/local/health', 'health', (_req, res) => {
    const ffmpeg = findFfmpeg();
    sendJson(res, 200, {
      ok: true,
      server: 'roboflow-local-server',
      version: deps.version,
      ffmpeg: ffmpeg ? { path: ffmpeg.path, version: ffmpeg.version, major: ffmpeg.major } : null,
      // The streaming worker process: its id (tests end it), and how often it died unasked.
      worker: { pid: deps.workerHost.pid ?? null, crashes: deps.workerHost.crashes },
    });
  });

  router.add('GET', '/local/workflows', 'workflows', (_req, res) => sendJson(res, 200, describeBuiltins()));

  // Camera URLs and ffmpeg's words in ended reasons may hold passwords: never answer them.
  router.add('GET', '/local/sessions', 'sessions', async (_req, res) => sendJson(res, 200, redactValue(await deps.sessions.describe())));

  router.add('DELETE', '/local/sessions', 'sessions_drop', (_req, res) => {
    const count = deps.sessions.activeCount;
    deps.sessions.endAll('dropped by DELETE /local/sessions');
    sendJson(res, 200, { dropped: count });
  });

  router.add('GET', '/local/requests', 'requests', (_req, res) => sendJson(res, 200, Object.fromEntries(deps.requestCounts)));

  router.add('DELETE', '/local/requests', 'requests_reset', (_req, res) => {
    deps.requestCounts.clear();
    sendJson(res, 200, {});
  });

  router.add('GET', '/local/faults', 'faults', (_req, res) => sendJson(res, 200, deps.behaviour));

  router.add('POST', '/local/faults', 'faults_set', async (req, res) => {
    let update: Partial<Behaviour>;
    try {
      update = parseBehaviour(await readJson(req));
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(400, { message: (error as Error).message });
    }
    Object.assign(deps.behaviour, update);
    deps.workerHost.behaviourChanged();
    context.log(`behaviour changed: ${JSON.stringify(update)}`);
    if (update.crashAfterMs) armCrash(update.crashAfterMs, context.log);
    sendJson(res, 200, deps.behaviour);
  });

  router.add('DELETE', '/local/faults', 'faults_reset', (_req, res) => {
    Object.assign(deps.behaviour, copyBehaviour(deps.initialBehaviour));
    deps.workerHost.behaviourChanged();
    sendJson(res, 200, deps.behaviour);
  });

  router.add('GET', '/local/cameras', 'cameras', (_req, res) => {
    const rtsp = deps.rtsp();
    sendJson(
      res,
      200,
      [...deps.cameraFiles.keys()].map((name) => ({
        name,
        mjpeg_url: `${context.baseUrl()}/local/cameras/${name}.mjpeg`,
        snapshot_url: `${context.baseUrl()}/local/cameras/${name}.jpg`,
        rtsp_url: rtsp ? rtsp.url(name, false) : null,
      })),
    );
  });

  router.add('GET', '/local/cameras/:file', 'camera_mjpeg', async (req, res, params) => {
    if (params.file.endsWith('.jpg')) {
      // A snapshot of the camera's scene as it is now (no ffmpeg needed): frames for flows that poll.
      const scene = SCENES[params.file.slice(0, -4)];
      if (!scene) throw new HttpError(404, { message: `No camera "${params.file}"` });
      const index = Math.floor((Date.now() / 1000) * scene.fps) % scene.frames;
      const jpeg = await sharp(renderScene(scene, index), { raw: { width: scene.width, height: scene.height, channels: 4 } })
        .jpeg({ quality: 85 })
        .toBuffer();
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.byteLength, 'cache-control': 'no-cache' });
      res.end(jpeg);
      return;
    }
    const name = params.file.replace(/\.mjpeg$/, '');
    const file = deps.cameraFiles.get(name);
    if (!file || !params.file.endsWith('.mjpeg')) throw new HttpError(404, { message: `No camera "${params.file}"` });
    const child = spawnChild(requireFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file, '-an', '-f', 'mpjpeg', '-q:v', '5', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace;boundary=ffmpeg', 'cache-control': 'no-cache' });
    child.stdout?.pipe(res); // Always there: stdout is a pipe.
    const stop = (): void => {
      child.kill('SIGKILL');
    };
    req.on('close', stop);
    res.on('close', stop);
    child.on('close', () => res.end());
  });
}
