import type { IBinaryKeyData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { InferenceClient, RoboflowError, toImageInput, type ImageInput, type ImageOutputs, type WorkflowTarget } from '../../../lib';
import { connectionOf } from '../shared/connection';
import { nodeError } from '../shared/errors';
import { jsonObject } from '../shared/parse';

/** Items analysed at once (each is one request; the rest wait their turn). */
const CONCURRENCY = 4;

async function image(context: IExecuteFunctions, index: number): Promise<ImageInput> {
  if (context.getNodeParameter('input', index) === 'url') {
    const url = String(context.getNodeParameter('imageUrl', index, '')).trim();
    if (!/^https?:\/\//i.test(url)) throw new RoboflowError('invalid-input', 'The image URL must start with http:// or https://');
    return toImageInput(url, { label: 'the image URL' });
  }
  const field = String(context.getNodeParameter('binaryPropertyName', index, 'data'));
  context.helpers.assertBinaryData(index, field);
  return toImageInput(await context.helpers.getBinaryDataBuffer(index, field), { label: `the binary field "${field}"` });
}

function workflowTarget(context: IExecuteFunctions, index: number, options: IDataObject): WorkflowTarget {
  if (context.getNodeParameter('workflowMode', index, 'saved') === 'specification') {
    const specification = jsonObject(context.getNodeParameter('specification', index, ''), 'Specification');
    if (!specification) throw new RoboflowError('invalid-input', 'Paste the workflow specification (JSON)');
    return { specification };
  }
  const workspace = String(context.getNodeParameter('workspace', index, '')).trim();
  const workflowId = String(context.getNodeParameter('workflowId', index, '')).trim();
  if (!workspace || !workflowId) throw new RoboflowError('invalid-input', 'Set the workspace and the workflow ID');
  const versionId = String(options.workflowVersion ?? '').trim();
  return { workspace, workflowId, ...(versionId ? { versionId } : {}) };
}

/** Image outputs as binary fields named after them (a list of crops: name_0, name_1, ...). */
async function binaries(context: IExecuteFunctions, images: ImageOutputs): Promise<IBinaryKeyData> {
  const out: IBinaryKeyData = {};
  for (const [name, value] of Object.entries(images)) {
    const list = Array.isArray(value) ? value : [value];
    for (let i = 0; i < list.length; i++) {
      const key = Array.isArray(value) ? `${name}_${i}` : name;
      out[key] = await context.helpers.prepareBinaryData(list[i], `${key}.jpg`, 'image/jpeg');
    }
  }
  return out;
}

async function runItem(context: IExecuteFunctions, client: InferenceClient, index: number, item: INodeExecutionData): Promise<INodeExecutionData> {
  const operation = context.getNodeParameter('operation', index) as 'runWorkflow' | 'runModel';
  const options = context.getNodeParameter('options', index, {}) ?? {};
  const input = await image(context, index);
  if (operation === 'runModel') {
    const model = String(context.getNodeParameter('model', index, '')).trim();
    if (!model) throw new RoboflowError('invalid-input', 'Set the model as project-ID/version');
    const confidence = options.confidence === undefined ? undefined : Number(options.confidence);
    const result = await client.runModel(model, input, confidence === undefined ? {} : { confidence });
    return { json: result.answer as IDataObject, ...(item.binary ? { binary: item.binary } : {}), pairedItem: { item: index } };
  }
  const result = await client.runWorkflow(workflowTarget(context, index, options), input, {
    imageInput: String(options.imageInput ?? 'image'),
    parameters: jsonObject(options.parameters, 'Parameters') ?? {},
    ...(options.disableSinks === true ? { disableSinks: true } : {}),
  });
  const [first] = result.results;
  const images = await binaries(context, first.images);
  const binary = { ...item.binary, ...images };
  return { json: first.outputs as IDataObject, ...(Object.keys(binary).length > 0 ? { binary } : {}), pairedItem: { item: index } };
}

/**
 * The Roboflow node's body: each input item is one image and one request, a few at
 * once, answers in the items' order. Errors are per item: with "Continue On Fail" the
 * item carries the error, otherwise the execution stops with it.
 */
export async function runInference(context: IExecuteFunctions): Promise<INodeExecutionData[]> {
  const node = context.getNode();
  const items = context.getInputData();
  let client: InferenceClient;
  try {
    client = new InferenceClient({ connection: await connectionOf(context) });
  } catch (error) {
    throw nodeError(node, error);
  }
  const out = new Array<INodeExecutionData | undefined>(items.length);
  let next = 0;
  let failure: Error | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        out[index] = await runItem(context, client, index, items[index]);
      } catch (error) {
        const wrapped = nodeError(node, error, index);
        if (!context.continueOnFail()) {
          failure ??= wrapped;
          return;
        }
        out[index] = { json: { error: wrapped.message }, pairedItem: { item: index } };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  } finally {
    await client.close();
  }
  if (failure) throw failure;
  return out.filter((item): item is INodeExecutionData => item !== undefined);
}
