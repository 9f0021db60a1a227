import type { RgbaFrame } from '../media/frame-reader';
import type { Detection, Detections } from './blocks';
import { detectColors } from './color-detector';

/**
 * The trained models this server knows by id: the colour detector, under the name the
 * docs use and under the built-in workflow's. Served by the single-image model route
 * (docs/protocol.md §6.3), the model look-up (§8) and Roboflow's generic model block
 * in workflows (streams of a model id, pipelines, jobs).
 */
export interface BuiltinModel {
  id: string;
  /** As the model registry reports it (`modelMetadata.taskType`). */
  taskType: 'object-detection';
  classes: string[];
}

export const BUILTIN_MODELS: BuiltinModel[] = [
  { id: 'colors/1', taskType: 'object-detection', classes: ['red', 'yellow', 'green', 'cyan', 'blue', 'magenta'] },
  { id: 'detect-colors/1', taskType: 'object-detection', classes: ['red', 'yellow', 'green', 'cyan', 'blue', 'magenta'] },
];

export function findModel(id: string): BuiltinModel | undefined {
  return BUILTIN_MODELS.find((model) => model.id === id);
}

/** A model id no one here knows: a 404 wherever it is used. */
export class ModelNotFoundError extends Error {
  constructor(readonly modelId: string) {
    super(`Model ${modelId} not found. This local server knows the models: ${BUILTIN_MODELS.map((model) => model.id).join(', ')}`);
    this.name = 'ModelNotFoundError';
  }
}

export interface ModelOptions {
  /** 0..1; Roboflow's model blocks default to 0.4. */
  confidence?: number;
  /** Keep only these classes (empty: all). */
  classes?: string[];
}

/** Runs a built-in model on one frame: detections above the confidence, of the wanted classes. */
export function runModel(modelId: string, frame: RgbaFrame, options: ModelOptions = {}): Detections {
  if (!findModel(modelId)) throw new ModelNotFoundError(modelId);
  const confidence = options.confidence ?? 0.4;
  const classes = options.classes ?? [];
  const found = detectColors(frame);
  const predictions = found.predictions.filter((prediction: Detection) => prediction.confidence >= confidence && (classes.length === 0 || classes.includes(prediction.class)));
  return { image: found.image, predictions };
}
