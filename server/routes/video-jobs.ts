import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkKey, injectFault, requestKey, type ServerContext } from '../context';
import { HttpError, readJson, sendJson, type Router } from '../http';
import { JobRunner, type Job } from '../jobs';
import { findBuiltin } from '../workflows/builtins';

interface Upload {
  token: string;
  fileName: string;
  path: string;
  expiresAt: number;
  complete: boolean;
}

const SIGNED_URL_SECONDS = 3600;

/**
 * Batch video endpoints: signed upload URLs that point back at this server (the PUT
 * streams to disk), job submission and status for both API generations, and results.
 */
export function addVideoJobRoutes(router: Router, context: ServerContext): { runner: JobRunner } {
  const secret = randomBytes(16).toString('hex');
  const uploads = new Map<string, Upload>();
  const sign = (token: string, expires: number): string => createHmac('sha256', secret).update(`${token}:${expires}`).digest('hex');

  const runner = new JobRunner(
    context.dataDir,
    () => context.behaviour,
    (url) => {
      // Our own file URLs (fileUrl, or a signed URL) are read from disk.
      const match = /\/local\/(?:files|uploads)\/([0-9a-f-]{36})/.exec(url);
      if (!match || !url.startsWith(context.baseUrl())) return undefined;
      const upload = uploads.get(match[1]);
      return upload?.complete ? upload.path : undefined;
    },
    context.log,
  );

  router.add('POST', '/video_upload_signed_url', 'video_upload_signed_url', async (req, res, _params, url) => {
    injectFault(context, 'video_upload_signed_url');
    const body = await readJson(req);
    checkKey(context, requestKey(req, url));
    const queryName = url.searchParams.get('file_name');
    const bodyName = body && typeof body === 'object' ? (body as { file_name?: unknown }).file_name : undefined;
    const fileName = queryName ?? (typeof bodyName === 'string' ? bodyName : undefined);
    if (!fileName) throw new HttpError(400, { message: 'file_name is required' });
    const token = randomUUID();
    const expiresAt = Date.now() + SIGNED_URL_SECONDS * 1000;
    const upload = { token, fileName: fileName.replace(/[^\w.-]+/g, '_'), path: join(context.dataDir, `upload-${token}`), expiresAt, complete: false };
    uploads.set(token, upload);
    const signedUrl = `${context.baseUrl()}/local/uploads/${token}?X-Goog-Expires=${SIGNED_URL_SECONDS}&X-Goog-Date=${expiresAt}&X-Goog-Signature=${sign(token, expiresAt)}`;
    const fileUrl = `${context.baseUrl()}/local/files/${token}/${encodeURIComponent(upload.fileName)}`;
    // The generation that passes file_name in the query expects camelCase and a file URL.
    if (queryName) sendJson(res, 200, { signedUrl, fileUrl });
    else sendJson(res, 200, { signed_url: signedUrl });
  });

  router.add('PUT', '/local/uploads/:token', 'upload', async (req, res, params, url) => {
    injectFault(context, 'upload');
    const upload = uploads.get(params.token);
    const expires = Number(url.searchParams.get('X-Goog-Date'));
    if (!upload || url.searchParams.get('X-Goog-Signature') !== sign(params.token, expires) || expires !== upload.expiresAt) {
      throw new HttpError(403, { message: 'SignatureDoesNotMatch: the signed URL is invalid' });
    }
    if (Date.now() > upload.expiresAt) throw new HttpError(400, { message: 'ExpiredToken: the signed URL has expired' });
    await pipeline(req, createWriteStream(upload.path));
    upload.complete = true;
    const size = (await stat(upload.path)).size;
    context.log(`upload ${upload.fileName}: ${size} bytes`);
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  });

  router.add('GET', '/local/files/:token/:name', 'file', async (_req, res, params) => {
    const upload = uploads.get(params.token);
    if (!upload?.complete) throw new HttpError(404, { message: 'No such file' });
    const size = (await stat(upload.path)).size;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    await pipeline(createReadStream(upload.path), res);
  });

  router.add('POST', '/videoinfer', 'videoinfer_submit', async (req, res, _params, url) => {
    injectFault(context, 'videoinfer_submit');
    const body = (await readJson(req)) as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') throw new HttpError(400, { message: 'JSON body required' });
    checkKey(context, requestKey(req, url, body));
    if ('workflow' in body || 'video_url' in body) {
      const { workspace, workflow, video_url: videoUrl, disable_sinks: disableSinks, workflow_version_id: versionId } = body;
      const fps = body.fps ?? 5;
      if (typeof workspace !== 'string' || !workspace) throw new HttpError(400, { message: 'workspace is required' });
      if (typeof workflow !== 'string' || !workflow) throw new HttpError(400, { message: 'workflow is required' });
      if (typeof videoUrl !== 'string' || !videoUrl) throw new HttpError(400, { message: 'video_url is required' });
      checkFps(fps);
      if (context.behaviour.unknownWorkflow || !findBuiltin(workflow)) throw new HttpError(404, { message: `Workflow ${workspace}/${workflow} not found` });
      const job = runner.submit({
        generation: 'workflow',
        inputUrl: videoUrl,
        fps: fps as number,
        targets: [workflow],
        workspace,
        ...(disableSinks === true ? { disableSinks } : {}),
        ...(typeof versionId === 'string' && versionId ? { versionId } : {}),
      });
      sendJson(res, 200, { jobId: job.id });
      return;
    }
    const { input_url: inputUrl, infer_fps: inferFps, models } = body;
    if (typeof inputUrl !== 'string' || !inputUrl) throw new HttpError(400, { message: 'input_url is required' });
    checkFps(inferFps);
    if (!Array.isArray(models) || models.length === 0) throw new HttpError(400, { message: 'models must list at least one model' });
    const targets = models.map((model) => {
      const id = model && typeof model === 'object' ? (model as { model_id?: unknown }).model_id : undefined;
      if (typeof id !== 'string' || !id) throw new HttpError(400, { message: 'every model needs a model_id' });
      if (context.behaviour.unknownWorkflow || !findBuiltin(id)) throw new HttpError(404, { message: `Model ${id} not found` });
      return id;
    });
    const job = runner.submit({ generation: 'model', inputUrl, fps: inferFps as number, targets });
    sendJson(res, 200, { job_id: job.id, message: 'Video inference job started' });
  });

  router.add('GET', '/videoinfer', 'videoinfer_status', (req, res, _params, url) => {
    injectFault(context, 'videoinfer_status');
    checkKey(context, requestKey(req, url));
    const camel = url.searchParams.get('jobId');
    const id = camel ?? url.searchParams.get('job_id');
    const job = id ? runner.get(id) : undefined;
    if (!job) throw new HttpError(404, { message: 'NOT FOUND' });
    const interval = context.behaviour.jobPollIntervalMs;
    if (interval > 0 && job.lastPollAt && Date.now() - job.lastPollAt < interval) {
      const wait = Math.ceil((interval - (Date.now() - job.lastPollAt)) / 1000);
      throw new HttpError(429, { message: 'Too many status requests: poll less often' }, { 'retry-after': String(wait) });
    }
    job.lastPollAt = Date.now();
    sendJson(res, 200, job.generation === 'model' ? modelStatus(job, context) : workflowStatus(job, context));
  });

  router.add('GET', '/local/results/:id', 'results', async (_req, res, params) => {
    injectFault(context, 'results');
    const job = runner.get(params.id);
    if (!job?.resultsPath) throw new HttpError(404, { message: 'No results for that job' });
    const size = (await stat(job.resultsPath)).size;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': size });
    await pipeline(createReadStream(job.resultsPath), res);
  });

  return { runner };
}

function checkFps(value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 120) {
    throw new HttpError(400, { message: 'infer_fps must be a number from 1 to 120' });
  }
}

/** Model jobs: status 1 running, 0 done (with output_signed_url), 2+ failed. */
function modelStatus(job: Job, context: ServerContext): Record<string, unknown> {
  if (job.state === 'failed') return { job_id: job.id, status: 2, message: `Job failed: ${job.error}` };
  if (job.state === 'complete') return { job_id: job.id, status: 0, progress: 1, output_signed_url: `${context.baseUrl()}/local/results/${job.id}` };
  return { job_id: job.id, status: 1, progress: round(job.progress) };
}

/** Workflow jobs: string states; results behind output_url or inline. */
function workflowStatus(job: Job, context: ServerContext): Record<string, unknown> {
  const base = { jobId: job.id, status: job.state, progress: round(job.progress) };
  if (job.state === 'failed') return { ...base, error: job.error };
  if (job.state !== 'complete') return base;
  return context.behaviour.jobResultsInline ? { ...base, results: job.results } : { ...base, output_url: `${context.baseUrl()}/local/results/${job.id}` };
}

const round = (value: number): number => Math.round(value * 1000) / 1000;
