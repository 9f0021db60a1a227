import { NodeOperationError, type IBinaryData, type IExecuteFunctions, type INode, type INodeExecutionData, type ITriggerFunctions } from 'n8n-workflow';
import type { RoboflowApiCredential } from '../../nodes/n8n/shared/connection';
import { scanner } from './secret-scan';

/**
 * Minimal n8n function contexts, enough to run a node's execute/trigger for real
 * against the local server (n8n's own tests mock these the same way).
 */

export const testNode = (type: string): INode => ({ id: 'node-1', name: 'Roboflow', type, typeVersion: 1, position: [0, 0], parameters: {} });

type Parameters = Record<string, unknown>;

function parameterGetter(parameters: Parameters | ((index: number) => Parameters)) {
  return (name: string, indexOrFallback?: unknown, fallback?: unknown): unknown => {
    const index = typeof indexOrFallback === 'number' ? indexOrFallback : 0;
    const values = typeof parameters === 'function' ? parameters(index) : parameters;
    const defaultValue = typeof indexOrFallback === 'number' ? fallback : indexOrFallback;
    return name in values ? values[name] : defaultValue;
  };
}

/** n8n's logger: quiet, but what a node logs goes to the secret scan (secret-scan.ts). */
const silent = {
  debug: (message: string, meta?: unknown) => scanner.value('n8n log', [message, meta]),
  info: (message: string, meta?: unknown) => scanner.value('n8n log', [message, meta]),
  warn: (message: string, meta?: unknown) => scanner.value('n8n log', [message, meta]),
  error: (message: string, meta?: unknown) => scanner.value('n8n log', [message, meta]),
};

export interface ExecuteContextOptions {
  type: string;
  parameters: Parameters | ((index: number) => Parameters);
  credential: RoboflowApiCredential;
  items?: INodeExecutionData[];
  continueOnFail?: boolean;
}

export function executeContext(options: ExecuteContextOptions): IExecuteFunctions {
  const node = testNode(options.type);
  const items: INodeExecutionData[] = options.items ?? [{ json: {} }];
  const binary = (index: number, field: string): IBinaryData => {
    const data = items[index]?.binary?.[field];
    if (!data) throw new NodeOperationError(node, `This operation expects the node's input data to contain a binary file '${field}', but none was found [item ${index}]`, { itemIndex: index });
    return data;
  };
  const context = {
    getNode: () => node,
    getInputData: () => items,
    getNodeParameter: parameterGetter(options.parameters),
    getCredentials: async () => options.credential,
    continueOnFail: () => options.continueOnFail ?? false,
    logger: silent,
    helpers: {
      assertBinaryData: binary,
      getBinaryDataBuffer: async (index: number, field: string) => Buffer.from(binary(index, field).data, 'base64'),
    },
  };
  return context as unknown as IExecuteFunctions;
}

export interface TriggerContext {
  context: ITriggerFunctions;
  emitted: INodeExecutionData[][][];
  errors: Error[];
}

export function triggerContext(options: { parameters: Parameters; credential: RoboflowApiCredential; mode: 'manual' | 'trigger' }): TriggerContext {
  const emitted: INodeExecutionData[][][] = [];
  const errors: Error[] = [];
  const context = {
    getNode: () => testNode('@visionflows/n8n-nodes-roboflow.roboflowStreamTrigger'),
    getMode: () => options.mode,
    getActivationMode: () => 'activate',
    getNodeParameter: parameterGetter(options.parameters),
    getCredentials: async () => options.credential,
    emit: (data: INodeExecutionData[][]) => {
      scanner.value('n8n items', data);
      emitted.push(data);
    },
    emitError: (error: Error) => {
      scanner.value('n8n errors', error);
      errors.push(error);
    },
    saveFailedExecution: (error: Error) => {
      scanner.value('n8n errors', error);
      errors.push(error);
    },
    logger: silent,
    helpers: { returnJsonArray: (json: object[]) => json.map((entry) => ({ json: entry })) },
  };
  return { context: context as unknown as ITriggerFunctions, emitted, errors };
}

/** A video or image as an n8n binary property. */
export function binaryItem(data: Buffer, fileName: string, mimeType: string, json: Record<string, unknown> = {}): INodeExecutionData {
  return { json, binary: { data: { data: data.toString('base64'), fileName, mimeType } } } as INodeExecutionData;
}

/**
 * Makes every run of a node type's `execute` feed the secret scan (secret-scan.ts): the
 * items it returns and the error it throws are what n8n shows the user.
 */
export function scanExecutions(nodeType: { prototype: { execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> } }): void {
  const original = nodeType.prototype.execute;
  nodeType.prototype.execute = async function (this: IExecuteFunctions) {
    try {
      const output = await original.call(this);
      scanner.value('n8n items', output);
      return output;
    } catch (error) {
      scanner.value('n8n errors', error);
      throw error;
    }
  };
}
