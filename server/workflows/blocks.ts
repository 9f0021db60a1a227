import type { RgbaFrame } from '../media/frame-reader';
import { detectColors } from './color-detector';
import { COLORS, COLOR_NAMES, type ColorName } from './colors';
import { drawBoxes } from './draw';
import { ModelNotFoundError, findModel, runModel } from './models';

/**
 * The blocks the local server's workflows are made of. Each does real, deterministic
 * work on the frame. Block types carry a `local/` prefix so no one mistakes them for
 * Roboflow's models.
 */

export type OutputKind = 'object_detection_prediction' | 'integer' | 'float' | 'boolean' | 'image';

/** An image value flowing between steps (serialised as base64 JPEG only when asked). */
export interface ImageValue {
  kind: 'image';
  frame: RgbaFrame;
}

export function isImageValue(value: unknown): value is ImageValue {
  return typeof value === 'object' && value !== null && (value as ImageValue).kind === 'image';
}

export interface Detection {
  x: number;
  y: number;
  width: number;
  height: number;
  confidence: number;
  class: string;
  class_id: number;
  detection_id: string;
  parent_id: string;
  tracker_id?: number;
}

export interface Detections {
  image: { width: number; height: number };
  predictions: Detection[];
}

export function isDetections(value: unknown): value is Detections {
  return typeof value === 'object' && value !== null && Array.isArray((value as Detections).predictions) && typeof (value as Detections).image === 'object';
}

export class WorkflowDefinitionError extends Error {}

/** Step inputs after selectors were resolved for the current frame. */
export type StepInputs = Record<string, unknown>;

export interface BlockDefinition {
  description: string;
  /** Step properties that must be given. */
  required: string[];
  outputs: Record<string, OutputKind>;
  /** Checks a step's literal settings when the workflow is compiled (e.g. that a model id exists). */
  check?(step: Record<string, unknown>): void;
  /** Makes the per-session function of one step (state such as a tracker lives in its closure). */
  create(): (inputs: StepInputs) => Record<string, unknown>;
}

function asFrame(value: unknown, field: string): RgbaFrame {
  if (isImageValue(value)) return value.frame;
  throw new WorkflowDefinitionError(`${field} must refer to an image`);
}

function asNumber(value: unknown, fallback: number, field: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new WorkflowDefinitionError(`${field} must be a number`);
  return value;
}

function asColors(value: unknown): Set<number> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new WorkflowDefinitionError('colors must be a list of colour names');
  const ids = new Set<number>();
  for (const name of value) {
    if (!(COLOR_NAMES as readonly unknown[]).includes(name)) {
      throw new WorkflowDefinitionError(`Unknown colour "${String(name)}": use ${COLOR_NAMES.join(', ')}`);
    }
    ids.add(COLORS[name as ColorName].id);
  }
  return ids;
}

function asClassNames(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new WorkflowDefinitionError('class_names must map colour names to class names');
  return value as Record<string, string>;
}

const round = (value: number, places = 4): number => Math.round(value * 10 ** places) / 10 ** places;

function iou(a: Detection, b: Detection): number {
  const left = Math.max(a.x - a.width / 2, b.x - b.width / 2);
  const right = Math.min(a.x + a.width / 2, b.x + b.width / 2);
  const top = Math.max(a.y - a.height / 2, b.y - b.height / 2);
  const bottom = Math.min(a.y + a.height / 2, b.y + b.height / 2);
  const overlap = Math.max(0, right - left) * Math.max(0, bottom - top);
  const union = a.width * a.height + b.width * b.height - overlap;
  return union > 0 ? overlap / union : 0;
}

export const BLOCKS: Record<string, BlockDefinition> = {
  'local/color_detector@v1': {
    description: 'Finds solid-coloured objects (red, yellow, green, cyan, blue, magenta) and reports them as detections',
    required: ['image'],
    outputs: { predictions: 'object_detection_prediction', count: 'integer' },
    create: () => (inputs) => {
      const predictions = detectColors(asFrame(inputs.image, 'image'), {
        minArea: asNumber(inputs.min_area, 64, 'min_area'),
        wanted: asColors(inputs.colors),
        names: asClassNames(inputs.class_names),
      });
      return { predictions, count: predictions.predictions.length };
    },
  },

  // Roboflow's generic model block, as a stream of a model id uses it (docs/protocol.md §8):
  // here it runs the built-in models (models.ts) and fails for any other model id.
  'roboflow_core/roboflow_object_detection_model@v2': {
    description: 'A trained object detection model by id (this server knows its built-in models only)',
    required: ['images', 'model_id'],
    outputs: { predictions: 'object_detection_prediction' },
    check: (step) => {
      if (typeof step.model_id !== 'string' || !findModel(step.model_id)) throw new ModelNotFoundError(String(step.model_id));
    },
    create: () => (inputs) => {
      const confidence = asNumber(inputs.confidence, 0.4, 'confidence');
      const classes = inputs.class_filter;
      if (classes !== undefined && classes !== null && !(Array.isArray(classes) && classes.every((name) => typeof name === 'string'))) {
        throw new WorkflowDefinitionError('class_filter must be a list of class names');
      }
      return { predictions: runModel(String(inputs.model_id), asFrame(inputs.images, 'images'), { confidence, classes: (classes) ?? [] }) };
    },
  },

  'local/byte_tracker@v1': {
    description: 'Gives detections stable tracker_id values across frames (greedy IoU matching per class)',
    required: ['detections'],
    outputs: { tracked_detections: 'object_detection_prediction' },
    create: () => {
      let nextId = 1;
      let tracks: Array<{ id: number; detection: Detection; missed: number }> = [];
      return (inputs) => {
        const detections = inputs.detections;
        if (!isDetections(detections)) throw new WorkflowDefinitionError('detections must refer to object detection predictions');
        const maxAge = asNumber(inputs.lost_track_buffer, 10, 'lost_track_buffer');
        const minIou = asNumber(inputs.minimum_iou, 0.1, 'minimum_iou');
        const unmatched = new Set(tracks.map((_, index) => index));
        const out: Detection[] = [];
        for (const detection of detections.predictions) {
          let best = -1;
          let bestIou = minIou;
          for (const index of unmatched) {
            const track = tracks[index];
            if (track.detection.class !== detection.class) continue;
            const overlap = iou(track.detection, detection);
            if (overlap >= bestIou) {
              best = index;
              bestIou = overlap;
            }
          }
          let id: number;
          if (best >= 0) {
            unmatched.delete(best);
            id = tracks[best].id;
            tracks[best] = { id, detection, missed: 0 };
          } else {
            id = nextId++;
            tracks.push({ id, detection, missed: 0 });
          }
          out.push({ ...detection, tracker_id: id });
        }
        for (const index of unmatched) tracks[index].missed++;
        tracks = tracks.filter((track) => track.missed <= maxAge);
        return { tracked_detections: { image: detections.image, predictions: out } };
      };
    },
  },

  'local/bounding_box_visualization@v1': {
    description: 'Draws detection boxes onto the image',
    required: ['image', 'predictions'],
    outputs: { image: 'image' },
    create: () => (inputs) => {
      const frame = asFrame(inputs.image, 'image');
      const detections = inputs.predictions;
      if (!isDetections(detections)) throw new WorkflowDefinitionError('predictions must refer to object detection predictions');
      return { image: { kind: 'image', frame: drawBoxes(frame, detections.predictions) } satisfies ImageValue };
    },
  },

  'local/motion_detector@v1': {
    description: 'Compares each frame with the previous one and reports the share of pixels that changed',
    required: ['image'],
    outputs: { motion: 'float', motion_detected: 'boolean' },
    create: () => {
      let previous: Uint8Array | undefined;
      return (inputs) => {
        const frame = asFrame(inputs.image, 'image');
        const threshold = asNumber(inputs.threshold, 24, 'threshold');
        const minShare = asNumber(inputs.minimum_share, 0.002, 'minimum_share');
        // Luma on every other pixel of every other row: plenty for motion.
        const samples = new Uint8Array(Math.ceil(frame.height / 2) * Math.ceil(frame.width / 2));
        let index = 0;
        for (let y = 0; y < frame.height; y += 2) {
          for (let x = 0; x < frame.width; x += 2) {
            const offset = (y * frame.width + x) * 4;
            samples[index++] = (frame.rgba[offset] * 77 + frame.rgba[offset + 1] * 150 + frame.rgba[offset + 2] * 29) >> 8;
          }
        }
        let changed = 0;
        if (previous?.length === samples.length) {
          for (let i = 0; i < samples.length; i++) if (Math.abs(samples[i] - previous[i]) > threshold) changed++;
        }
        previous = samples;
        const share = round(changed / samples.length, 5);
        return { motion: share, motion_detected: share >= minShare };
      };
    },
  },

  'local/image_stats@v1': {
    description: 'Mean brightness and size of the image (the cheapest block: for benchmarks)',
    required: ['image'],
    outputs: { brightness: 'float', width: 'integer', height: 'integer' },
    create: () => (inputs) => {
      const frame = asFrame(inputs.image, 'image');
      let sum = 0;
      let count = 0;
      const step = 16;
      for (let y = 0; y < frame.height; y += step) {
        for (let x = 0; x < frame.width; x += step) {
          const offset = (y * frame.width + x) * 4;
          sum += (frame.rgba[offset] * 77 + frame.rgba[offset + 1] * 150 + frame.rgba[offset + 2] * 29) >> 8;
          count++;
        }
      }
      return { brightness: round(sum / Math.max(1, count), 2), width: frame.width, height: frame.height };
    },
  },
};
