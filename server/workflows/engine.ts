import type { RgbaFrame } from '../media/frame-reader';
import { BLOCKS, WorkflowDefinitionError, isImageValue, type ImageValue, type OutputKind } from './blocks';

/**
 * A small interpreter for Roboflow-style workflow specifications
 * (`{version, inputs, steps, outputs}`) whose steps use the local blocks. Built-in
 * workflows are specifications too, so saved ids and inline specs run the same code.
 */

export interface WorkflowOutput {
  name: string;
  kind: OutputKind;
}

export interface CompiledWorkflow {
  outputs: WorkflowOutput[];
  /** Per-session state (trackers, previous frames) lives in the run. */
  createRun(parameters: Record<string, unknown>): WorkflowRun;
}

export interface WorkflowRun {
  process(frame: RgbaFrame, metadata: Record<string, unknown>): Record<string, unknown>;
}

type Selector = { from: 'input'; name: string } | { from: 'step'; step: string; output: string };

const SELECTOR = /^\$(inputs|steps)\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?$/;

function parseSelector(value: unknown): Selector | undefined {
  if (typeof value !== 'string') return undefined;
  const match = SELECTOR.exec(value);
  if (!match) return undefined;
  if (match[1] === 'inputs') return match[3] ? undefined : { from: 'input', name: match[2] };
  return match[3] ? { from: 'step', step: match[2], output: match[3] } : undefined;
}

function fail(message: string): never {
  throw new WorkflowDefinitionError(message);
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${what} must be an object`);
  return value as Record<string, unknown>;
}

/** Validates a specification and prepares it to run; throws WorkflowDefinitionError with a precise reason. */
export function compileWorkflow(specification: unknown, imageInputName: string): CompiledWorkflow {
  const spec = asRecord(specification, 'workflow_specification');
  const inputs = Array.isArray(spec.inputs) ? spec.inputs.map((input, i) => asRecord(input, `inputs[${i}]`)) : fail('workflow_specification.inputs must be a list');
  const steps = Array.isArray(spec.steps) ? spec.steps.map((step, i) => asRecord(step, `steps[${i}]`)) : fail('workflow_specification.steps must be a list');
  const outputs = Array.isArray(spec.outputs) ? spec.outputs.map((output, i) => asRecord(output, `outputs[${i}]`)) : fail('workflow_specification.outputs must be a list');

  const imageInputs = new Set<string>();
  const parameters = new Map<string, unknown>();
  for (const input of inputs) {
    const name = typeof input.name === 'string' ? input.name : fail('every input needs a name');
    if (input.type === 'WorkflowImage' || input.type === 'InferenceImage') imageInputs.add(name);
    else if (input.type === 'WorkflowParameter' || input.type === 'InferenceParameter') parameters.set(name, input.default_value);
    else if (input.type !== 'WorkflowVideoMetadata') fail(`Unsupported input type "${String(input.type)}" for input "${name}"`);
  }
  if (!imageInputs.has(imageInputName)) {
    fail(`The workflow has no image input named "${imageInputName}" (image inputs: ${[...imageInputs].join(', ') || 'none'})`);
  }

  const stepKinds = new Map<string, Record<string, OutputKind>>();
  const compiledSteps = steps.map((step) => {
    const name = typeof step.name === 'string' && step.name ? step.name : fail('every step needs a name');
    if (stepKinds.has(name)) fail(`Duplicate step name "${name}"`);
    const block = BLOCKS[String(step.type)] ?? fail(`Unknown block type "${String(step.type)}" in step "${name}" (known: ${Object.keys(BLOCKS).join(', ')})`);
    for (const field of block.required) if (step[field] === undefined) fail(`Step "${name}" needs "${field}"`);
    block.check?.(step);
    const bindings: Array<[string, Selector | { literal: unknown }]> = [];
    for (const [field, value] of Object.entries(step)) {
      if (field === 'type' || field === 'name') continue;
      const selector = parseSelector(value);
      if (selector?.from === 'input' && !imageInputs.has(selector.name) && !parameters.has(selector.name) && selector.name !== 'video_metadata') {
        fail(`Step "${name}" refers to unknown input "${selector.name}"`);
      }
      if (selector?.from === 'step') {
        const kinds = stepKinds.get(selector.step) ?? fail(`Step "${name}" refers to step "${selector.step}", which is not defined before it`);
        if (!(selector.output in kinds)) fail(`Step "${selector.step}" has no output "${selector.output}"`);
      }
      bindings.push([field, selector ?? { literal: value }]);
    }
    stepKinds.set(name, block.outputs);
    return { name, block, bindings };
  });

  const outputBindings = outputs.map((output) => {
    const name = typeof output.name === 'string' && output.name ? output.name : fail('every output needs a name');
    const selector = parseSelector(output.selector) ?? fail(`Output "${name}" has an invalid selector "${String(output.selector)}"`);
    let kind: OutputKind;
    if (selector.from === 'input') {
      kind = imageInputs.has(selector.name) ? 'image' : fail(`Output "${name}" may only select an image input or a step output`);
    } else {
      const kinds = stepKinds.get(selector.step) ?? fail(`Output "${name}" refers to unknown step "${selector.step}"`);
      kind = kinds[selector.output] ?? fail(`Step "${selector.step}" has no output "${selector.output}"`);
    }
    return { name, selector, kind };
  });
  const names = outputBindings.map((binding) => binding.name);
  if (new Set(names).size !== names.length) fail('Output names must be unique');

  return {
    outputs: outputBindings.map(({ name, kind }) => ({ name, kind })),
    createRun(runtimeParameters) {
      const values = new Map(parameters);
      for (const [key, value] of Object.entries(runtimeParameters)) if (values.has(key)) values.set(key, value);
      const runners = compiledSteps.map((step) => ({ ...step, run: step.block.create() }));
      return {
        process(frame, metadata) {
          const stepOutputs = new Map<string, Record<string, unknown>>();
          const image: ImageValue = { kind: 'image', frame };
          const resolve = (binding: Selector | { literal: unknown }): unknown => {
            if ('literal' in binding) return binding.literal;
            if (binding.from === 'input') {
              if (imageInputs.has(binding.name)) return image;
              if (binding.name === 'video_metadata') return metadata;
              return values.get(binding.name);
            }
            return stepOutputs.get(binding.step)?.[binding.output];
          };
          for (const step of runners) {
            const stepInputs: Record<string, unknown> = {};
            for (const [field, binding] of step.bindings) stepInputs[field] = resolve(binding);
            stepOutputs.set(step.name, step.run(stepInputs));
          }
          const result: Record<string, unknown> = {};
          for (const output of outputBindings) result[output.name] = resolve(output.selector);
          return result;
        },
      };
    },
  };
}

export { isImageValue, WorkflowDefinitionError };
