import { fields } from '../persist';
import type { JobHandle } from './client';

const GENERATIONS = ['model', 'workflow', 'batch'] as const;

/**
 * Reads a persisted job handle back (a Validator piece for JsonFile): exactly the
 * fields this version writes, or an Error naming what is wrong ("job 2: handle.jobId
 * is not text"). Unknown extra fields are dropped; nothing read is trusted.
 */
export function readJobHandle(value: unknown, what = 'handle'): JobHandle {
  const handle = fields.object(value, what);
  const generation = handle.generation;
  if (!(GENERATIONS as readonly unknown[]).includes(generation)) throw new Error(`${what}.generation is not one of ${GENERATIONS.join(', ')}`);
  const apiUrl = fields.text(handle.apiUrl, `${what}.apiUrl`, { nonEmpty: true });
  if (!/^https?:\/\//i.test(apiUrl)) throw new Error(`${what}.apiUrl is not an http(s) URL`);
  const workspace = fields.text(handle.workspace, `${what}.workspace`, { optional: true });
  const workflow = fields.text(handle.workflow, `${what}.workflow`, { optional: true });
  const batchId = fields.text(handle.batchId, `${what}.batchId`, { optional: true });
  const fps = fields.number(handle.fps, `${what}.fps`, { optional: true });
  if (generation === 'batch' && !workspace) throw new Error(`${what}.workspace is missing (a Batch Processing job needs it)`);
  let fallback: JobHandle['fallback'];
  if (handle.fallback !== undefined) {
    const given = fields.object(handle.fallback, `${what}.fallback`);
    if (given.from !== 'batch') throw new Error(`${what}.fallback.from is not "batch"`);
    fallback = { from: 'batch', reason: fields.text(given.reason, `${what}.fallback.reason`) };
  }
  return {
    generation: generation as JobHandle['generation'],
    jobId: fields.text(handle.jobId, `${what}.jobId`, { nonEmpty: true }),
    apiUrl,
    submittedAt: fields.text(handle.submittedAt, `${what}.submittedAt`),
    ...(workspace !== undefined ? { workspace } : {}),
    ...(workflow !== undefined ? { workflow } : {}),
    ...(batchId !== undefined ? { batchId } : {}),
    ...(fps !== undefined ? { fps } : {}),
    ...(fallback ? { fallback } : {}),
  };
}
