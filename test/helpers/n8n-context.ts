import { realpath } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import { NodeOperationError, ObservableObject, type IBinaryData, type IDataObject, type IExecuteFunctions, type INode, type INodeExecutionData, type ITriggerFunctions } from 'n8n-workflow';
import type { CameraLogin } from '../../lib';
import type { RoboflowApiCredential } from '../../nodes/n8n/shared/connection';
import { allowedFolders } from '../../nodes/n8n/shared/files';
import { scanner } from './secret-scan';

/**
 * Minimal n8n function contexts, enough to run a node's execute/trigger for real
 * against the local server (n8n's own tests mock these the same way).
 */

export const testNode = (type: string, typeVersion = 1, id = 'node-1'): INode => ({ id, name: 'Roboflow', type, typeVersion, position: [0, 0], parameters: {} });

type Parameters = Record<string, unknown>;

function parameterGetter(parameters: Parameters | ((index: number) => Parameters)) {
  return (name: string, indexOrFallback?: unknown, fallback?: unknown): unknown => {
    const index = typeof indexOrFallback === 'number' ? indexOrFallback : 0;
    const values = typeof parameters === 'function' ? parameters(index) : parameters;
    const defaultValue = typeof indexOrFallback === 'number' ? fallback : indexOrFallback;
    return name in values ? values[name] : defaultValue;
  };
}

/** n8n's logger: quiet, but what a node logs goes to the secret scan (secret-scan.ts), and to `lines` when given. */
function quietLogger(lines?: string[]) {
  const log = (message: string, meta?: unknown): void => {
    scanner.value('n8n log', [message, meta]);
    lines?.push(message);
  };
  return { debug: log, info: log, warn: log, error: log };
}
const silent = quietLogger();

/** n8n's file helpers, by n8n's rule (N8N_RESTRICT_FILE_ACCESS_TO, default ~/.n8n-files). */
const fileHelpers = {
  resolvePath: async (path: string) =>
    realpath(path).catch(async () => {
      const paths = await import('node:path');
      return paths.join(await realpath(paths.dirname(path)), paths.basename(path));
    }),
  isFilePathBlocked: (path: string) => {
    const folders = allowedFolders();
    return (
      folders.length > 0 &&
      !folders.some((folder) => {
        const rel = relative(folder, path);
        return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
      })
    );
  },
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
      ...fileHelpers,
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
  /** What the node logged, in order. */
  logs: string[];
  /** The workflow's static data as the node sees it (live). */
  staticData: WorkflowStaticData;
}

/**
 * A workflow's static data as n8n keeps it: `live` is the object the running trigger
 * changes (the activation's Workflow object: n8n-workflow's ObservableObject, which
 * notes a change of a property it holds, not one inside an object set later); `saved`
 * is what n8n's database holds, written from `live` when it changed, at each emit
 * (ActiveWorkflowManager saves static data before each execution a trigger starts) and
 * on `persist()` (n8n does it once an activation has finished). A new activation, or
 * n8n after a restart, starts from `saved`.
 */
export class WorkflowStaticData {
  live: IDataObject;
  saved: IDataObject;
  /** How many times n8n would have written it. */
  writes = 0;

  constructor(saved: IDataObject = {}) {
    this.saved = saved;
    this.live = this.fromSaved();
  }

  /** As `getWorkflowStaticData('node')` (n8n's key is the node's name). */
  node(name: string): IDataObject {
    const key = `node:${name}`;
    if (this.live[key] === undefined) this.live[key] = ObservableObject.create({}, this.live as never);
    return this.live[key] as IDataObject;
  }

  /** WorkflowStaticDataService.saveStaticData: written only when n8n saw a change. */
  persist(): void {
    if ((this.live as { __dataChanged?: boolean }).__dataChanged !== true) return;
    this.saved = JSON.parse(JSON.stringify(this.live)) as IDataObject;
    (this.live as { __dataChanged?: boolean }).__dataChanged = false;
    this.writes++;
  }

  /** The next activation (or n8n after a restart) reads what the database has. */
  reload(): void {
    this.live = this.fromSaved();
  }

  private fromSaved(): IDataObject {
    return ObservableObject.create(JSON.parse(JSON.stringify(this.saved)) as IDataObject, undefined, { ignoreEmptyOnFirstChild: true });
  }
}

export interface TriggerContextOptions {
  parameters: Parameters;
  credential: RoboflowApiCredential;
  mode: 'manual' | 'trigger';
  /** The node's typeVersion (default 1). */
  version?: number;
  /** The n8n workflow's id (failed starts are remembered per workflow and node). */
  workflowId?: string;
  nodeId?: string;
  /** The node's name (n8n keys a node's static data by it). */
  nodeName?: string;
  cameraLogin?: CameraLogin;
  /** The workflow's static data, shared by activations of one workflow (a fresh one by default). */
  staticData?: WorkflowStaticData;
}

export function triggerContext(options: TriggerContextOptions): TriggerContext {
  const emitted: INodeExecutionData[][][] = [];
  const errors: Error[] = [];
  const logs: string[] = [];
  const node = { ...testNode('@visionflows/n8n-nodes-roboflow.roboflowStreamTrigger', options.version ?? 1, options.nodeId ?? 'node-1'), ...(options.nodeName ? { name: options.nodeName } : {}) };
  const staticData = options.staticData ?? new WorkflowStaticData();
  const context = {
    getNode: () => node,
    getWorkflow: () => ({ id: options.workflowId ?? 'workflow-1', name: 'Test workflow', active: options.mode === 'trigger' }),
    getMode: () => options.mode,
    getActivationMode: () => 'activate',
    // Triggers have no items: the second argument is always the fallback.
    getNodeParameter: (name: string, fallback?: unknown) => (name in options.parameters ? options.parameters[name] : fallback),
    getCredentials: async (name: string) => {
      if (name === 'roboflowCameraLoginApi') {
        if (!options.cameraLogin) throw new Error('Node does not have any credentials set for "roboflowCameraLoginApi"');
        return options.cameraLogin;
      }
      return options.credential;
    },
    getWorkflowStaticData: (type: string) => {
      if (type !== 'node') throw new Error(`static data type ${type} not expected`);
      return staticData.node(node.name);
    },
    emit: (data: INodeExecutionData[][]) => {
      scanner.value('n8n items', data);
      // As n8n does before it runs the execution a trigger started.
      if (options.mode === 'trigger') staticData.persist();
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
    logger: quietLogger(logs),
    helpers: { returnJsonArray: (json: object[]) => json.map((entry) => ({ json: entry })) },
  };
  return { context: context as unknown as ITriggerFunctions, emitted, errors, logs, staticData };
}

/** A video or image as an n8n binary property. */
export function binaryItem(data: Buffer, fileName: string, mimeType: string, json: Record<string, unknown> = {}): INodeExecutionData {
  return { json, binary: { data: { data: data.toString('base64'), fileName, mimeType } } } as INodeExecutionData;
}

/**
 * Makes every run of a node type's `execute` feed the secret scan (secret-scan.ts): the
 * items it returns and the error it throws are what n8n shows the user.
 */
export function scanExecutions(nodeType: { prototype: { execute: (this: IExecuteFunctions) => Promise<INodeExecutionData[][]> } }): void {
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
