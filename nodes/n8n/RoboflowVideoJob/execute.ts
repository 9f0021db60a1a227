import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { RoboflowError, VideoJobClient, type JobHandle, type RoboflowConnection, type VideoInput, type VideoJobResults } from '../../../lib';
import { connectionOf } from '../shared/connection';
import { nodeError } from '../shared/errors';
import { toItemJson } from '../shared/json';
import { FILE_ACCESS_RULE, checkHostVideo, expandHome } from '../shared/files';
import { readJobPlan, readJobToLookUp } from './job-settings';

type Operation = 'process' | 'submit' | 'getStatus' | 'getResults';

/** A video on the n8n machine, checked with n8n's own file access rules first. */
async function hostFile(context: IExecuteFunctions, index: number): Promise<VideoInput> {
  const typed = String(context.getNodeParameter('filePath', index, '')).trim();
  if (!typed) throw new RoboflowError('invalid-input', 'Set the video file path');
  const resolved = await context.helpers.resolvePath(expandHome(typed)).catch(() => undefined);
  if (!resolved) throw new RoboflowError('invalid-input', `Video file not found: ${typed} (its folder does not exist; ~ is the home folder of the user running n8n)`);
  if (context.helpers.isFilePathBlocked(resolved)) throw new RoboflowError('invalid-input', `n8n may not read ${typed}: ${FILE_ACCESS_RULE}`);
  await checkHostVideo(resolved);
  return { kind: 'file', path: resolved };
}

async function input(context: IExecuteFunctions, index: number): Promise<VideoInput> {
  const kind = context.getNodeParameter('input', index);
  if (kind === 'file') return hostFile(context, index);
  if (kind === 'url') {
    const url = String(context.getNodeParameter('videoUrl', index, '')).trim();
    if (!/^https?:\/\//i.test(url)) throw new RoboflowError('invalid-input', 'The video URL must start with http:// or https://');
    return { kind: 'url', url };
  }
  const field = String(context.getNodeParameter('binaryPropertyName', index, 'data'));
  const binary = context.helpers.assertBinaryData(index, field);
  const data = await context.helpers.getBinaryDataBuffer(index, field);
  return { kind: 'buffer', data, fileName: binary.fileName ?? 'video.mp4' };
}

/** Which API ran the job, and why Auto did not use Batch Processing (only when it did not). */
function ranWith(handle: JobHandle): { generation: JobHandle['generation']; fallback?: JobHandle['fallback'] } {
  return { generation: handle.generation, ...(handle.fallback ? { fallback: handle.fallback } : {}) };
}

function resultItems(handle: JobHandle, results: VideoJobResults, perFrame: boolean, index: number): INodeExecutionData[] {
  if (perFrame) {
    return results.frames.map((frame) => ({ json: toItemJson({ jobId: handle.jobId, ...ranWith(handle), ...frame }), pairedItem: { item: index } }));
  }
  return [{ json: toItemJson({ jobId: handle.jobId, ...ranWith(handle), frames: results.frames }), pairedItem: { item: index } }];
}

/**
 * The Video Job node's body: each input item is one job (or one job lookup). Errors
 * are per item: with "Continue On Fail" the item carries the error, otherwise the
 * execution stops with it.
 */
export async function runVideoJobs(context: IExecuteFunctions): Promise<INodeExecutionData[]> {
  const node = context.getNode();
  const items = context.getInputData();
  const out: INodeExecutionData[] = [];
  let client: VideoJobClient | undefined;
  let connection: RoboflowConnection;
  try {
    connection = await connectionOf(context);
    client = new VideoJobClient({ connection });
  } catch (error) {
    throw nodeError(node, error);
  }
  try {
    for (let index = 0; index < items.length; index++) {
      try {
        const operation = context.getNodeParameter('operation', index) as Operation;
        const options = context.getNodeParameter('options', index, {}) ?? {};
        const pollSeconds = Number(options.pollSeconds ?? 0);
        const timeoutMinutes = Number(options.timeoutMinutes ?? 60);
        if (operation === 'process' || operation === 'submit') {
          const fps = Number(context.getNodeParameter('fps', index, 5));
          if (!Number.isFinite(fps) || fps < 1 || fps > 120) throw new RoboflowError('invalid-input', `Frames per second must be between 1 and 120 (got ${fps})`);
          const plan = readJobPlan(context, index);
          const video = await input(context, index);
          const handle = await client.start(video, plan.target, {
            fps,
            onGeneration: (generation, fallback) =>
              context.logger.debug(
                `Roboflow video job: ${generation === 'batch' ? 'Batch Processing' : generation === 'model' ? 'model job (/videoinfer)' : '/videoinfer'}${fallback ? ` (${fallback.reason})` : ''}`,
              ),
          });
          if (operation === 'submit') {
            out.push({ json: toItemJson(handle), pairedItem: { item: index } });
            continue;
          }
          const status = await client
            .wait(handle, { ...(pollSeconds > 0 ? { pollIntervalMs: pollSeconds * 1000 } : {}), signal: AbortSignal.timeout(timeoutMinutes * 60_000) })
            .catch((error: unknown) => {
              if (error instanceof RoboflowError && error.code === 'aborted') {
                throw new RoboflowError('timeout', `Video job ${handle.jobId} not finished after ${timeoutMinutes} minutes: raise the timeout, or use Submit Job and Get Job Results`);
              }
              throw error;
            });
          out.push(...resultItems(handle, await client.results(status), options.itemPerFrame === true, index));
          continue;
        }
        const handle = readJobToLookUp(context, index, connection);
        const status = await client.status(handle);
        if (operation === 'getStatus') {
          // The job itself too, so that Get Job Results can read it from this item (after an IF on `state`).
          out.push({ json: toItemJson({ ...handle, state: status.state, progress: status.progress ?? null, message: status.message ?? null }), pairedItem: { item: index } });
          continue;
        }
        if (status.state === 'failed') throw new RoboflowError('job-failed', `Video job ${handle.jobId} failed: ${status.message ?? 'no reason given'}`);
        if (status.state !== 'complete') throw new RoboflowError('invalid-input', `Video job ${handle.jobId} has not finished yet (${status.state}): wait longer, then get the results`);
        out.push(...resultItems(handle, await client.results(status), options.itemPerFrame === true, index));
      } catch (error) {
        const failure = nodeError(node, error, index);
        if (context.continueOnFail()) {
          out.push({ json: { error: failure.message }, pairedItem: { item: index } });
          continue;
        }
        throw failure;
      }
    }
  } finally {
    await client.close();
  }
  return out;
}
