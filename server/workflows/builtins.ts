import { compileWorkflow, type CompiledWorkflow } from './engine';

/**
 * The workflows the local server knows by id. Any workspace name is accepted; the id
 * picks one of these. Each is an ordinary specification run by the same interpreter as
 * inline specifications.
 */
export interface BuiltinWorkflow {
  id: string;
  description: string;
  specification: Record<string, unknown>;
}

const image = { type: 'WorkflowImage', name: 'image' };
const colorParameters = [
  { type: 'WorkflowParameter', name: 'colors', default_value: null },
  { type: 'WorkflowParameter', name: 'min_area', default_value: 64 },
  { type: 'WorkflowParameter', name: 'class_names', default_value: {} },
];
const detector = {
  type: 'local/color_detector@v1',
  name: 'detector',
  image: '$inputs.image',
  colors: '$inputs.colors',
  min_area: '$inputs.min_area',
  class_names: '$inputs.class_names',
};

export const BUILTIN_WORKFLOWS: BuiltinWorkflow[] = [
  {
    id: 'detect-colors',
    description:
      'Finds solid-coloured objects and reports them as detections (class = colour, or a name from the class_names parameter), their count, and the frame with boxes drawn. Parameters: colors, min_area, class_names.',
    specification: {
      version: '1.0',
      inputs: [image, ...colorParameters],
      steps: [detector, { type: 'local/bounding_box_visualization@v1', name: 'boxes', image: '$inputs.image', predictions: '$steps.detector.predictions' }],
      outputs: [
        { type: 'JsonField', name: 'predictions', selector: '$steps.detector.predictions' },
        { type: 'JsonField', name: 'count', selector: '$steps.detector.count' },
        { type: 'JsonField', name: 'output_image', selector: '$steps.boxes.image' },
      ],
    },
  },
  {
    id: 'track-colors',
    description: 'Like detect-colors, with a tracker: every detection carries a tracker_id that stays with the object across frames.',
    specification: {
      version: '1.0',
      inputs: [image, ...colorParameters],
      steps: [
        detector,
        { type: 'local/byte_tracker@v1', name: 'tracker', detections: '$steps.detector.predictions' },
        { type: 'local/bounding_box_visualization@v1', name: 'boxes', image: '$inputs.image', predictions: '$steps.tracker.tracked_detections' },
      ],
      outputs: [
        { type: 'JsonField', name: 'predictions', selector: '$steps.tracker.tracked_detections' },
        { type: 'JsonField', name: 'count', selector: '$steps.detector.count' },
        { type: 'JsonField', name: 'output_image', selector: '$steps.boxes.image' },
      ],
    },
  },
  {
    id: 'motion',
    description: 'Share of pixels that changed since the previous frame, and whether that counts as motion. Parameters: threshold, minimum_share.',
    specification: {
      version: '1.0',
      inputs: [image, { type: 'WorkflowParameter', name: 'threshold', default_value: 24 }, { type: 'WorkflowParameter', name: 'minimum_share', default_value: 0.002 }],
      steps: [{ type: 'local/motion_detector@v1', name: 'motion', image: '$inputs.image', threshold: '$inputs.threshold', minimum_share: '$inputs.minimum_share' }],
      outputs: [
        { type: 'JsonField', name: 'motion', selector: '$steps.motion.motion' },
        { type: 'JsonField', name: 'motion_detected', selector: '$steps.motion.motion_detected' },
      ],
    },
  },
  {
    id: 'image-stats',
    description: 'Mean brightness and size of each frame: the lightest workflow, for benchmarks and smoke tests.',
    specification: {
      version: '1.0',
      inputs: [image],
      steps: [{ type: 'local/image_stats@v1', name: 'stats', image: '$inputs.image' }],
      outputs: [
        { type: 'JsonField', name: 'brightness', selector: '$steps.stats.brightness' },
        { type: 'JsonField', name: 'width', selector: '$steps.stats.width' },
        { type: 'JsonField', name: 'height', selector: '$steps.stats.height' },
      ],
    },
  },
];

export function findBuiltin(id: string): BuiltinWorkflow | undefined {
  return BUILTIN_WORKFLOWS.find((workflow) => workflow.id === id);
}

export interface WorkflowListing {
  id: string;
  description: string;
  /** Output names, usable as data outputs. */
  outputs: string[];
  /** The outputs that are images, usable as stream outputs (rendered video). */
  image_outputs: string[];
  /** Parameters and their defaults (override with workflows_parameters). */
  parameters: Record<string, unknown>;
}

/** What `GET /local/workflows` lists. */
export function describeBuiltins(): WorkflowListing[] {
  return BUILTIN_WORKFLOWS.map((workflow) => {
    const compiled: CompiledWorkflow = compileWorkflow(workflow.specification, 'image');
    const inputs = (workflow.specification.inputs as Array<{ type: string; name: string; default_value?: unknown }>).filter((input) => input.type === 'WorkflowParameter');
    return {
      id: workflow.id,
      description: workflow.description,
      outputs: compiled.outputs.map((output) => output.name),
      image_outputs: compiled.outputs.filter((output) => output.kind === 'image').map((output) => output.name),
      parameters: Object.fromEntries(inputs.map((input) => [input.name, input.default_value ?? null])),
    };
  });
}
