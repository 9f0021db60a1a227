import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BatchProcessingService, type BatchJob, type JobDefinition, type StagingBatch } from '../batch-processing';
import { checkKey, injectFault, requestKey, type ServerContext } from '../context';
import { HttpError, readJson, sendJson, type Router } from '../http';
import { findBuiltin } from '../workflows/builtins';

/**
 * Batch Processing's REST API on the local server (docs/protocol.md §4): Data Staging
 * (video upload through a signed URL with extension headers, batch metadata, parts,
 * file listings with download URLs) and jobs (start, status, stages). The key goes in
 * the `api_key` query parameter. With `batchProcessing` off the server answers as a
 * workspace whose plan lacks the feature: 402 on every call.
 */

const FEATURE_GATE = 'Batch processing is not enabled for this workspace. Upgrade your plan or contact sales at https://roboflow.com/sales.';
const JOB_ID = /^[a-z0-9_-]{1,20}$/;
const BATCH_ID = /^[a-z0-9_-]{1,64}$/;
const MAX_VIDEO_BYTES = 10 * 1024 ** 3;
const SIGNED_URL_SECONDS = 3600;
const PAGE_SIZE = 100;

interface PendingUpload {
  batch: StagingBatch;
  fileName: string;
  expiresAt: number;
  headers: Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badRequest(message: string): HttpError {
  return new HttpError(400, { message });
}

/** Checks a job definition as the service does before it accepts a job; returns it typed. */
function checkDefinition(body: unknown, workspace: string, service: BatchProcessingService, context: ServerContext): JobDefinition {
  if (!isRecord(body)) throw badRequest('The job definition must be a JSON object');
  if (body.type === 'simple-image-processing-v1') throw badRequest('This local server runs video jobs only (simple-video-processing-v1)');
  if (body.type !== 'simple-video-processing-v1') throw badRequest(`Unknown job type "${String(body.type)}"`);
  const input = body.jobInput;
  if (!isRecord(input) || input.type !== 'staging-batch-input-v1' || typeof input.batchId !== 'string') throw badRequest('jobInput must be {"type": "staging-batch-input-v1", "batchId": ...}');
  const batch = service.batch(workspace, input.batchId);
  if (!batch) throw new HttpError(404, { message: `Batch ${input.batchId} not found in workspace ${workspace}` });
  if (batch.batchContentType !== 'videos') throw badRequest(`Batch ${input.batchId} holds ${batch.batchContentType}, not videos`);
  const spec = body.processingSpecification;
  if (!isRecord(spec) || spec.type !== 'workflows-processing-specification-v1') throw badRequest('processingSpecification must be of type workflows-processing-specification-v1');
  if (typeof spec.workflowId !== 'string' || !spec.workflowId) throw badRequest('processingSpecification.workflowId is required');
  if (context.behaviour.unknownWorkflow || !findBuiltin(spec.workflowId)) throw new HttpError(404, { message: `Workflow ${spec.workflowId} not found in workspace ${workspace}` });
  if (spec.aggregationFormat !== undefined && spec.aggregationFormat !== 'csv' && spec.aggregationFormat !== 'jsonl') throw badRequest('aggregationFormat must be "csv" or "jsonl"');
  if (spec.maxVideoFPS !== undefined && (typeof spec.maxVideoFPS !== 'number' || !(spec.maxVideoFPS > 0))) throw badRequest('maxVideoFPS must be a number above 0');
  if (spec.workflowParameters !== undefined && !isRecord(spec.workflowParameters)) throw badRequest('workflowParameters must be an object');
  if (spec.imageInputName !== undefined && typeof spec.imageInputName !== 'string') throw badRequest('imageInputName must be text');
  if (body.notificationsURL !== undefined && (typeof body.notificationsURL !== 'string' || !/^https?:\/\//i.test(body.notificationsURL))) throw badRequest('notificationsURL must be an http(s) URL');
  return body as JobDefinition;
}

function describeJob(job: BatchJob): Record<string, unknown> {
  return {
    jobId: job.jobId,
    name: job.name,
    jobDefinition: job.definition,
    currentStage: job.currentStage,
    plannedStages: job.plannedStages,
    error: job.error,
    isTerminal: job.isTerminal,
    lastNotification: job.lastNotification,
    createdAt: job.createdAt,
    lastUpdate: job.lastUpdate,
    restartParametersOverride: [],
  };
}

export function addBatchProcessingRoutes(router: Router, context: ServerContext): { service: BatchProcessingService } {
  const service = new BatchProcessingService(context.dataDir, () => context.behaviour, context.log);
  const secret = randomBytes(16).toString('hex');
  const uploads = new Map<string, PendingUpload>();
  const sign = (token: string, expires: number): string => createHmac('sha256', secret).update(`${token}:${expires}`).digest('hex');

  /** Every Batch Processing call: faults, the plan's gate, then the key. */
  const guard = (req: IncomingMessage, url: URL, route: string): void => {
    injectFault(context, route);
    if (!context.behaviour.batchProcessing) throw new HttpError(402, { message: FEATURE_GATE });
    checkKey(context, requestKey(req, url));
  };
  const pollLimit = (job: BatchJob): void => {
    const interval = context.behaviour.jobPollIntervalMs;
    if (interval > 0 && job.lastPollAt && Date.now() - job.lastPollAt < interval) {
      const wait = Math.ceil((interval - (Date.now() - job.lastPollAt)) / 1000);
      throw new HttpError(429, { message: 'Too many status requests: poll less often' }, { 'retry-after': String(wait) });
    }
    job.lastPollAt = Date.now();
  };
  const existingBatch = (params: Record<string, string>): StagingBatch => {
    const batch = service.batch(params.workspace, params.batch);
    if (!batch) throw new HttpError(404, { message: `Batch ${params.batch} not found in workspace ${params.workspace}` });
    return batch;
  };
  const existingJob = (params: Record<string, string>): BatchJob => {
    const job = service.job(params.workspace, params.job);
    if (!job) throw new HttpError(404, { message: `Job ${params.job} not found in workspace ${params.workspace}` });
    return job;
  };

  router.add('POST', '/data-staging/v1/external/:workspace/batches/:batch/upload/video', 'staging_upload_video', (req, res, params, url) => {
    guard(req, url, 'staging_upload_video');
    if (!BATCH_ID.test(params.batch)) throw badRequest('Batch id: lowercase letters, digits, - and _, at most 64 characters');
    const fileName = url.searchParams.get('fileName');
    if (!fileName) throw badRequest('fileName is required');
    const batch = service.ensureInputBatch(params.workspace, params.batch, url.searchParams.get('displayName') ?? params.batch);
    if (batch.batchContentType !== 'videos') throw badRequest(`Batch ${params.batch} does not hold videos`);
    const token = randomUUID();
    const expiresAt = Date.now() + SIGNED_URL_SECONDS * 1000;
    // What a GCS signed URL with an extension header demands: the PUT must carry it, unchanged.
    const headers = { 'x-goog-content-length-range': `0,${MAX_VIDEO_BYTES}` };
    uploads.set(token, { batch, fileName: fileName.replace(/[^\w.-]+/g, '_'), expiresAt, headers });
    const uploadURL =
      `${context.baseUrl()}/local/staging-uploads/${token}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Expires=${SIGNED_URL_SECONDS}` +
      `&X-Goog-Date=${expiresAt}&X-Goog-SignedHeaders=host%3Bx-goog-content-length-range&X-Goog-Signature=${sign(token, expiresAt)}`;
    sendJson(res, 200, { status: 'ok', signedURLDetails: { uploadURL, method: 'PUT', extensionHeaders: headers, maxFileSizeBytes: MAX_VIDEO_BYTES } });
  });

  router.add('PUT', '/local/staging-uploads/:token', 'staging_upload', async (req, res, params, url) => {
    injectFault(context, 'staging_upload');
    const upload = uploads.get(params.token);
    const expires = Number(url.searchParams.get('X-Goog-Date'));
    if (!upload || url.searchParams.get('X-Goog-Signature') !== sign(params.token, expires) || expires !== upload.expiresAt) {
      throw new HttpError(403, { message: 'SignatureDoesNotMatch: the signed URL is invalid' });
    }
    if (Date.now() > upload.expiresAt) throw badRequest('ExpiredToken: the signed URL has expired');
    for (const [name, value] of Object.entries(upload.headers)) {
      if (req.headers[name] !== value) throw new HttpError(400, { message: `MissingSecurityHeader: the signed URL needs the header ${name}: ${value} (from extensionHeaders)` });
    }
    const length = Number(req.headers['content-length']);
    if (!Number.isFinite(length)) throw new HttpError(411, { message: 'MissingContentLength: the upload needs a Content-Length' });
    const path = join(context.dataDir, `staging-${params.token}`);
    await pipeline(req, createWriteStream(path));
    if ((await stat(path)).size === 0) {
      await rm(path, { force: true });
      throw badRequest('EntityTooSmall: the upload is empty');
    }
    uploads.delete(params.token);
    service.addFile(upload.batch, { fileName: upload.fileName, path, contentType: 'video/mp4' });
    context.log(`staged ${upload.fileName} in batch ${upload.batch.batchId}`);
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  });

  router.add('GET', '/data-staging/v1/external/:workspace/batches/:batch', 'staging_batch', (req, res, params, url) => {
    guard(req, url, 'staging_batch');
    const batch = existingBatch(params);
    sendJson(res, 200, {
      batch: {
        displayName: batch.displayName,
        batchId: batch.batchId,
        batchType: batch.batchType,
        batchContentType: batch.batchContentType,
        createdDate: batch.createdDate,
        expiryDate: batch.expiryDate,
      },
    });
  });

  router.add('GET', '/data-staging/v1/external/:workspace/batches/:batch/count', 'staging_count', (req, res, params, url) => {
    guard(req, url, 'staging_count');
    const batch = existingBatch(params);
    const part = url.searchParams.get('partName');
    sendJson(res, 200, { count: batch.files.filter((file) => !part || file.partName === part).length });
  });

  router.add('GET', '/data-staging/v1/external/:workspace/batches/:batch/parts', 'staging_parts', (req, res, params, url) => {
    guard(req, url, 'staging_parts');
    const batch = existingBatch(params);
    if (batch.batchType !== 'multipart-batch') throw badRequest(`Batch ${batch.batchId} is not a multipart batch`);
    sendJson(res, 200, { batchParts: batch.parts });
  });

  router.add('GET', '/data-staging/v1/external/:workspace/batches/:batch/list', 'staging_list', (req, res, params, url) => {
    guard(req, url, 'staging_list');
    const batch = existingBatch(params);
    const part = url.searchParams.get('partName');
    const files = batch.files.filter((file) => !part || file.partName === part);
    const pageSize = Math.max(1, Math.min(PAGE_SIZE, Number(url.searchParams.get('pageSize')) || context.behaviour.stagingPageSize || PAGE_SIZE));
    const start = Number(url.searchParams.get('nextPageToken') ?? 0) || 0;
    const page = files.slice(start, start + pageSize);
    const nextPageToken = start + pageSize < files.length ? String(start + pageSize) : null;
    sendJson(res, 200, {
      filesMetadata: page.map((file) => ({
        downloadURL: `${context.baseUrl()}/local/staging-files/${file.token}/${encodeURIComponent(file.fileName)}`,
        fileName: file.fileName,
        ...(file.partName ? { partName: file.partName } : {}),
        contentType: file.contentType,
      })),
      nextPageToken,
    });
  });

  router.add('GET', '/local/staging-files/:token/:name', 'staging_file', async (_req, res, params) => {
    injectFault(context, 'staging_file');
    const file = service.file(params.token);
    if (!file) throw new HttpError(404, { message: 'No such file' });
    const size = (await stat(file.path)).size;
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': size });
    await pipeline(createReadStream(file.path), res);
  });

  router.add('POST', '/batch-processing/v1/external/:workspace/jobs/:job', 'batch_job_start', async (req, res, params, url) => {
    guard(req, url, 'batch_job_start');
    const body = await readJson(req);
    if (!JOB_ID.test(params.job)) throw badRequest('Job id: lowercase letters, digits, - and _, at most 20 characters');
    const definition = checkDefinition(body, params.workspace, service, context);
    const existing = service.job(params.workspace, params.job);
    if (existing) {
      // The same id and definition again (a retry after a lost answer) starts nothing new.
      if (existing.canonical !== JSON.stringify(definition)) throw new HttpError(409, { message: `Job ${params.job} already exists with a different definition` });
      sendJson(res, 200, { status: 'ok', jobId: existing.jobId });
      return;
    }
    const job = service.submit(params.workspace, params.job, url.searchParams.get('name') ?? params.job, definition);
    sendJson(res, 200, { status: 'ok', jobId: job.jobId });
  });

  router.add('GET', '/batch-processing/v1/external/:workspace/jobs/:job', 'batch_job_status', (req, res, params, url) => {
    guard(req, url, 'batch_job_status');
    const job = existingJob(params);
    pollLimit(job);
    sendJson(res, 200, { job: describeJob(job) });
  });

  router.add('GET', '/batch-processing/v1/external/:workspace/jobs/:job/stages', 'batch_job_stages', (req, res, params, url) => {
    guard(req, url, 'batch_job_stages');
    sendJson(res, 200, { stages: existingJob(params).stages });
  });

  return { service };
}
