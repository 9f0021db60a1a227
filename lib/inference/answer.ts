import { RoboflowError } from '../errors';

/**
 * Roboflow's single-image answers, decoded for flows (docs/protocol.md §6.2, §6.3):
 * image outputs (`{type: "base64", value}`) become Buffers kept apart from the data, so
 * no payload ever carries base64 text, and the detections are found wherever the
 * workflow put them.
 */

/** One detection as Roboflow serialises it (boxes by centre, in pixels). */
export interface Prediction {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  confidence: number;
  class: string;
  class_id?: number;
  detection_id?: string;
  tracker_id?: number;
  [key: string]: unknown;
}

/** Decoded image outputs of one image: a Buffer per output, or a list (crops). */
export type ImageOutputs = Record<string, Buffer | Buffer[]>;

export interface DecodedOutputs {
  /** The workflow's outputs for the image, image outputs taken out. */
  outputs: Record<string, unknown>;
  /** The image outputs, as JPEG Buffers, by output name. */
  images: ImageOutputs;
  /** The detections, when the workflow returned some (its `predictions` output first). */
  predictions?: Prediction[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isImageValue(value: unknown): value is { type: 'base64'; value: string } {
  return isRecord(value) && value.type === 'base64' && typeof value.value === 'string';
}

/** Replaces every image object inside `value` by its bytes (outputs that mix data and images). */
function decodeNested(value: unknown): unknown {
  if (isImageValue(value)) return Buffer.from(value.value, 'base64');
  if (Array.isArray(value)) return value.map(decodeNested);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, decodeNested(inner)]));
  return value;
}

function isPrediction(value: unknown): value is Prediction {
  return isRecord(value) && typeof value.class === 'string' && typeof value.confidence === 'number';
}

/** The detections inside one output value: `{image, predictions: [...]}` (sv.Detections serialised) or a plain list. */
export function predictionsOf(value: unknown): Prediction[] | undefined {
  const list = isRecord(value) && Array.isArray(value.predictions) ? value.predictions : Array.isArray(value) ? value : undefined;
  if (!list) return undefined;
  if (list.length === 0) return isRecord(value) && isRecord(value.image) ? [] : undefined;
  return list.every(isPrediction) ? list : undefined;
}

/** Splits one image's workflow outputs into data, image Buffers and the detections. */
export function decodeOutputs(output: Record<string, unknown>): DecodedOutputs {
  const outputs: Record<string, unknown> = {};
  const images: ImageOutputs = {};
  for (const [name, value] of Object.entries(output)) {
    if (isImageValue(value)) images[name] = Buffer.from(value.value, 'base64');
    else if (Array.isArray(value) && value.length > 0 && value.every(isImageValue)) images[name] = value.map((image) => Buffer.from(image.value, 'base64'));
    else outputs[name] = decodeNested(value);
  }
  let predictions = predictionsOf(outputs.predictions);
  if (!predictions) {
    for (const value of Object.values(outputs)) {
      predictions = predictionsOf(value);
      if (predictions) break;
    }
  }
  return { outputs, images, ...(predictions ? { predictions } : {}) };
}

/** The `outputs` list of a workflow answer, one entry per image sent, checked. */
export function workflowOutputs(body: unknown, expected: number): Array<Record<string, unknown>> {
  const outputs = isRecord(body) ? body.outputs : undefined;
  if (!Array.isArray(outputs) || !outputs.every(isRecord)) {
    throw new RoboflowError('protocol', 'Unexpected answer from the workflow endpoint: no outputs list (is the server URL a Roboflow inference server?)');
  }
  if (outputs.length !== expected) {
    throw new RoboflowError('protocol', `Unexpected answer from the workflow endpoint: ${outputs.length} results for ${expected} images`);
  }
  return outputs;
}

/** A trained model's answer (`{predictions, image: {width, height}, time, inference_id}`) and its detections. */
export interface DecodedModelAnswer {
  answer: Record<string, unknown>;
  predictions?: Prediction[];
}

export function modelAnswer(body: unknown): DecodedModelAnswer {
  if (!isRecord(body) || !('predictions' in body)) {
    throw new RoboflowError('protocol', 'Unexpected answer from the model endpoint: no predictions (is the server URL a Roboflow inference server?)');
  }
  // Multi-label classification answers predictions as an object keyed by class: kept in
  // the answer, but not detections.
  const predictions = Array.isArray(body.predictions) && body.predictions.length === 0 ? [] : predictionsOf(body.predictions);
  return { answer: decodeNested(body) as Record<string, unknown>, ...(predictions ? { predictions } : {}) };
}
