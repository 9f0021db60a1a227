import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sharp from 'sharp';
import { checkKey, injectFault, type ServerContext } from '../context';
import { HttpError, readBody, readJson, sendJson, type Router } from '../http';
import type { RgbaFrame } from '../media/frame-reader';
import type { Detection } from '../workflows/blocks';
import { BUILTIN_WORKFLOWS, findBuiltin } from '../workflows/builtins';
import { WorkflowDefinitionError, compileWorkflow, isImageValue, type CompiledWorkflow } from '../workflows/engine';
import { BUILTIN_MODELS, ModelNotFoundError, findModel, runModel } from '../workflows/models';

/**
 * Single-image inference over HTTP, as Roboflow's serverless hosts and self-hosted
 * Inference servers answer it (docs/protocol.md §6): saved and inline workflows on one
 * image or a list, and trained models by `project/version`. The built-in workflows run
 * here; the built-in model `colors/1` is the colour detector. Error bodies follow
 * Roboflow's error handlers: 400 with `error_type` (and `blocks_errors` for workflow
 * definitions), 401, 404 with the generic message, 413 for bodies over the hosted limit.
 */

/** The hosted API takes images up to 20 MB; as base64 in JSON that is a third more. */
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const MAX_BODY_BYTES = Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 256 * 1024;
const URL_TIMEOUT_MS = 10_000;

const NOT_FOUND = 'Requested Roboflow resource not found. Make sure that workspace, project or model you referred in request exists.';

function validationError(loc: string[], msg: string, type = 'missing'): HttpError {
  return new HttpError(422, { detail: [{ type, loc: ['body', ...loc], msg, input: null }] });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the workflow input assembler answers when an image cannot be used (RuntimeInputError, 400). */
function runtimeInputError(message: string): HttpError {
  return new HttpError(400, {
    message,
    error_type: 'RuntimeInputError',
    context: 'workflow_execution | runtime_input_validation',
    inner_error_type: null,
    inner_error_message: 'None',
  });
}

/** An image's bytes from `{type: "base64" | "url", value}`; throws a plain Error with the cause. */
async function loadImageBytes(value: unknown): Promise<Buffer> {
  if (!isRecord(value) || typeof value.value !== 'string') throw new Error('expected {"type": "base64" | "url", "value": "..."}');
  if (value.type === 'base64') {
    const text = value.value.replace(/^data:[^,]*,/, '');
    const bytes = Buffer.from(text, 'base64');
    if (bytes.byteLength === 0) throw new Error('empty base64 image');
    return bytes;
  }
  if (value.type === 'url') return fetchImage(value.value);
  throw new Error(`unsupported image type "${String(value.type)}" (use base64 or url)`);
}

/** Fetches an image URL the way the hosted server does: bounded in time and size. */
async function fetchImage(url: string): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(URL_TIMEOUT_MS), redirect: 'follow' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`Could not load image from url: ${url}. Details: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`Could not load image from url: ${url}. Details: HTTP ${response.status}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_IMAGE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`Could not load image from url: ${url}. Details: image over ${MAX_IMAGE_BYTES} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/** Decodes an encoded image into RGBA pixels (sharp keeps its own pixel limit against decompression bombs). */
async function decode(bytes: Buffer): Promise<RgbaFrame> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, rgba: data };
  } catch (error) {
    throw new Error(`Could not decode image: ${(error as Error).message.split('\n')[0]}`);
  }
}

async function toJpeg(frame: RgbaFrame): Promise<string> {
  const jpeg = await sharp(frame.rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } })
    .removeAlpha()
    .jpeg({ quality: 80 })
    .toBuffer();
  return jpeg.toString('base64');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The key of a workflow request: a Bearer header overrides the body's (docs/protocol.md §6.1). */
function workflowKey(req: IncomingMessage, body: Record<string, unknown>): string | undefined {
  const header = req.headers.authorization;
  if (header && /^Bearer\s+\S/i.test(header)) return header.replace(/^Bearer\s+/i, '').trim();
  return typeof body.api_key === 'string' ? body.api_key : undefined;
}

function imageInputNames(specification: unknown): string[] {
  if (!isRecord(specification) || !Array.isArray(specification.inputs)) return [];
  return specification.inputs
    .filter((input) => isRecord(input) && (input.type === 'WorkflowImage' || input.type === 'InferenceImage') && typeof input.name === 'string')
    .map((input) => (input as { name: string }).name);
}

function compile(specification: unknown): { compiled: CompiledWorkflow; imageInput: string } {
  const imageInput = imageInputNames(specification)[0] ?? 'image';
  try {
    return { compiled: compileWorkflow(specification, imageInput), imageInput };
  } catch (error) {
    if (error instanceof ModelNotFoundError) throw new HttpError(404, { message: `${NOT_FOUND} (${error.message})` });
    if (!(error instanceof WorkflowDefinitionError)) throw error;
    throw new HttpError(400, {
      message: error.message,
      error_type: 'WorkflowSyntaxError',
      context: 'workflow_compilation | specification_parsing',
      inner_error_type: 'WorkflowDefinitionError',
      inner_error_message: error.message,
      blocks_errors: [],
    });
  }
}

/** Runs a workflow request: key, specification, images, one run over the images, serialised outputs. */
async function runWorkflowRequest(req: IncomingMessage, context: ServerContext, saved: { workspace: string; workflowId: string } | undefined): Promise<Record<string, unknown>> {
  const body = await readJson(req, MAX_BODY_BYTES);
  if (!isRecord(body))
    throw new HttpError(422, { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: body ?? null }] });
  const key = workflowKey(req, body);
  if (!key) throw validationError(['api_key'], 'Field required');
  if (!isRecord(body.inputs))
    throw validationError(['inputs'], body.inputs === undefined ? 'Field required' : 'Input should be a valid dictionary', body.inputs === undefined ? 'missing' : 'dict_type');
  checkKey(context, key);

  let specification: unknown;
  if (saved) {
    const builtin = context.behaviour.unknownWorkflow ? undefined : findBuiltin(saved.workflowId);
    if (!builtin) throw new HttpError(404, { message: `${NOT_FOUND} (This local server knows the workflows: ${BUILTIN_WORKFLOWS.map((w) => w.id).join(', ')})` });
    specification = builtin.specification;
  } else {
    if (!isRecord(body.specification))
      throw validationError(['specification'], body.specification === undefined ? 'Field required' : 'Input should be a valid dictionary', body.specification === undefined ? 'missing' : 'dict_type');
    specification = body.specification;
  }
  const { compiled, imageInput } = compile(specification);

  const given = body.inputs[imageInput];
  if (given === undefined || given === null) {
    throw runtimeInputError(`Detected runtime parameter \`${imageInput}\` defined as \`WorkflowImage\` (of kind \`['image']\`), but value is not provided.`);
  }
  const values = Array.isArray(given) ? given : [given];
  const frames: RgbaFrame[] = [];
  for (let index = 0; index < values.length; index++) {
    const identifier = Array.isArray(given) ? `${imageInput}.[${index}]` : imageInput;
    try {
      frames.push(await decode(await loadImageBytes(values[index])));
    } catch (error) {
      throw runtimeInputError(`Failed to assemble \`${identifier}\`. Could not successfully use any deserializer for declared kinds. Details: \nKind: \`image\` - Error: ${(error as Error).message}`);
    }
  }

  const parameters = Object.fromEntries(Object.entries(body.inputs).filter(([name]) => name !== imageInput));
  const excluded = new Set(Array.isArray(body.excluded_fields) ? body.excluded_fields.filter((name): name is string => typeof name === 'string') : []);
  const run = compiled.createRun(parameters);
  const outputs: Array<Record<string, unknown>> = [];
  for (const frame of frames) {
    if (context.behaviour.slowFrameMs > 0) await sleep(context.behaviour.slowFrameMs);
    const parentId = randomUUID();
    let result: Record<string, unknown>;
    try {
      result = run.process(frame, { width: frame.width, height: frame.height });
    } catch (error) {
      const message = (error as Error).message;
      throw new HttpError(500, {
        message: `Error during execution of step: ${message}`,
        error_type: 'StepExecutionError',
        context: 'workflow_execution | step_execution',
        inner_error_type: 'WorkflowDefinitionError',
        inner_error_message: message,
        blocks_errors: [],
      });
    }
    const serialised: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(result)) {
      if (excluded.has(name)) continue;
      serialised[name] = isImageValue(value)
        ? {
            type: 'base64',
            value: await toJpeg(value.frame),
            video_metadata: { video_identifier: parentId, frame_number: 0, frame_timestamp: new Date().toISOString(), fps: 30, measured_fps: null, comes_from_video_file: null },
          }
        : value;
    }
    outputs.push(serialised);
  }
  return { outputs };
}

/** The model's image: `?image=<url>`, or the body as base64 text (form-urlencoded, as the SDKs send it). */
async function modelImage(req: IncomingMessage, url: URL): Promise<Buffer> {
  const imageUrl = url.searchParams.get('image');
  if (imageUrl) return fetchImage(imageUrl);
  if (!req.headers['content-type']) {
    await readBody(req, MAX_BODY_BYTES);
    throw new HttpError(400, { message: 'Content-Type header not provided with request.' });
  }
  const text = (await readBody(req, MAX_BODY_BYTES)).toString('latin1').trim();
  if (!text) throw new Error('Image not found in request body.');
  const bytes = Buffer.from(text.replace(/^data:[^,]*,/, ''), 'base64');
  if (bytes.byteLength === 0) throw new Error('Image not found in request body.');
  return bytes;
}

function ratio(value: string | null, fallback: number): number {
  if (value === null || value === '') return fallback;
  const number = Number(value);
  if (!Number.isFinite(number)) throw validationError(['confidence'], 'Input should be a valid number', 'float_parsing');
  return number >= 1 ? number / 100 : number;
}

async function runModelRequest(req: IncomingMessage, url: URL, context: ServerContext, params: Record<string, string>): Promise<Record<string, unknown>> {
  checkKey(context, url.searchParams.get('api_key') ?? undefined);
  const modelId = `${params.project}/${params.version}`;
  if (!findModel(modelId)) {
    await readBody(req, MAX_BODY_BYTES).catch(() => undefined);
    throw new HttpError(404, { message: `${NOT_FOUND} (This local server knows the models: ${BUILTIN_MODELS.map((model) => model.id).join(', ')})` });
  }
  const started = performance.now();
  let frame: RgbaFrame;
  try {
    frame = await decode(await modelImage(req, url));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, { message: `Could not load input image. Cause: ${(error as Error).message}` });
  }
  const confidence = ratio(url.searchParams.get('confidence'), 0.4);
  const classes = (url.searchParams.get('classes') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (context.behaviour.slowFrameMs > 0) await sleep(context.behaviour.slowFrameMs);
  const predictions = runModel(modelId, frame, { confidence, classes }).predictions.map(({ x, y, width, height, confidence: score, class: name, class_id: classId, detection_id: id }: Detection) => ({
    x,
    y,
    width,
    height,
    confidence: score,
    class: name,
    class_id: classId,
    detection_id: id,
  }));
  return {
    inference_id: randomUUID(),
    time: Math.round(performance.now() - started) / 1000,
    image: { width: frame.width, height: frame.height },
    predictions,
  };
}

/**
 * Registers the single-image routes. Register them after every other route: the model
 * route (`POST /:project/:version`) matches any two-segment path.
 */
export function addInferenceRoutes(router: Router, context: ServerContext): void {
  const inline = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    injectFault(context, 'workflow_inference');
    sendJson(res, 200, await runWorkflowRequest(req, context, undefined));
  };
  const saved = async (req: IncomingMessage, res: ServerResponse, params: Record<string, string>): Promise<void> => {
    injectFault(context, 'workflow_inference');
    sendJson(res, 200, await runWorkflowRequest(req, context, { workspace: params.workspace, workflowId: params.workflow }));
  };
  router.add('POST', '/workflows/run', 'workflow_inference', inline);
  router.add('POST', '/infer/workflows', 'workflow_inference', inline);
  router.add('POST', '/infer/workflows/:workspace/:workflow', 'workflow_inference', saved);
  router.add('POST', '/:workspace/workflows/:workflow', 'workflow_inference', saved);
  router.add('POST', '/:project/:version', 'model_inference', async (req, res, params, url) => {
    injectFault(context, 'model_inference');
    sendJson(res, 200, await runModelRequest(req, url, context, params));
  });
}
