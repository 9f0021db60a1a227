import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { RoboflowError, jobTargetFor, readJobHandle, type JobGeneration, type JobGenerationChoice, type JobHandle, type JobTarget, type RoboflowConnection } from '../../../lib';

/**
 * Version 2 changed two defaults for new nodes (n8n saves only values that differ from a
 * default, so a node keeps the defaults of the version it was saved with): workflow jobs
 * go through Batch Processing when the workspace has it (version 1: /videoinfer), and
 * a job lookup reads the job from the input item (version 1: a Job ID field).
 */
export const V1_DEFAULTS = { api: 'videoinfer', jobSource: 'id' } as const;
export const V2_DEFAULTS = { api: 'auto', jobSource: 'item' } as const;

/** The node's job settings for one item, checked: what to run, and how (the API a workflow job goes through). */
export interface JobPlan {
  target: JobTarget;
}

function defaultsFor(context: IExecuteFunctions): typeof V1_DEFAULTS | typeof V2_DEFAULTS {
  return Number(context.getNode().typeVersion ?? 1) >= 2 ? V2_DEFAULTS : V1_DEFAULTS;
}

export function readJobPlan(context: IExecuteFunctions, index: number): JobPlan {
  if (context.getNodeParameter('target', index) === 'model') {
    return { target: jobTargetFor('model', { model: String(context.getNodeParameter('model', index, '')) }) };
  }
  const api = String(context.getNodeParameter('api', index, defaultsFor(context).api)) as JobGenerationChoice;
  if (api !== 'auto' && api !== 'batch' && api !== 'videoinfer') throw new RoboflowError('invalid-input', `API must be Auto, Batch Processing or Video Inference (got ${api})`);
  const options = (context.getNodeParameter('workflowOptions', index, {}) ?? {}) as IDataObject;
  const versionId = String(options.workflowVersionId ?? '').trim();
  const disableSinks = options.disableSinks === true;
  const notificationsUrl = String(options.notificationsUrl ?? '').trim();
  if (notificationsUrl && !/^https?:\/\/\S+$/i.test(notificationsUrl)) throw new RoboflowError('invalid-input', 'The Notifications URL must start with http:// or https://');
  // Said in this node's own field names (the engine refuses it too, and runs Auto's dry run through /videoinfer).
  if (disableSinks && api === 'batch') throw new RoboflowError('invalid-input', "Batch Processing cannot skip the workflow's sinks: turn Dry Run off, or choose API: Video Inference (/videoinfer)");
  const target = jobTargetFor(api, {
    workspace: String(context.getNodeParameter('workspace', index, '')),
    workflow: String(context.getNodeParameter('workflowId', index, '')),
    ...(versionId ? { versionId } : {}),
    ...(disableSinks ? { disableSinks: true } : {}),
    ...(notificationsUrl ? { notificationsUrl } : {}),
    ...(options.machineType === 'cpu' || options.machineType === 'gpu' ? { machineType: options.machineType } : {}),
  });
  return { target };
}

/**
 * The job a lookup is about: Submit Job's output item (checked field by field: an item
 * is user data), or the Job ID fields. The API URL is always the credential's: a handle
 * naming another one is refused, so that an item can never send the key elsewhere.
 */
export function readJobToLookUp(context: IExecuteFunctions, index: number, connection: RoboflowConnection): JobHandle {
  const source = String(context.getNodeParameter('jobSource', index, defaultsFor(context).jobSource));
  if (source === 'item') {
    const json = context.getInputData()[index]?.json;
    let handle: JobHandle | undefined;
    let problem = '';
    try {
      handle = readJobHandle(json, 'job');
    } catch (error) {
      problem = (error as Error).message;
    }
    if (!handle) throw new RoboflowError('invalid-input', `Input item ${index} is not a job from Submit Job (${problem}): pass Submit Job's output item on unchanged, or set Job to By Job ID`);
    if (handle.apiUrl.replace(/\/+$/, '') !== connection.apiUrl.replace(/\/+$/, '')) {
      throw new RoboflowError(
        'invalid-input',
        `Job ${handle.jobId} was submitted to ${handle.apiUrl}, not to this credential's API URL (${connection.apiUrl}): use the credential it was submitted with`,
      );
    }
    return handle;
  }
  const jobId = String(context.getNodeParameter('jobId', index, '')).trim();
  if (!jobId) throw new RoboflowError('invalid-input', 'Set the job ID');
  const generation = String(context.getNodeParameter('generation', index, 'workflow')) as JobGeneration;
  if (generation !== 'workflow' && generation !== 'model' && generation !== 'batch') throw new RoboflowError('invalid-input', `Unknown job type ${generation as string}`);
  if (generation !== 'batch') return { generation, jobId, apiUrl: connection.apiUrl, submittedAt: '' };
  const workspace = String(context.getNodeParameter('workspace', index, '')).trim();
  if (!workspace) throw new RoboflowError('invalid-input', 'Set the workspace the Batch Processing job runs in');
  return { generation, jobId, apiUrl: connection.apiUrl, submittedAt: '', workspace };
}
