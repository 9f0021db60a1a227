import type { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import { scanner } from './secret-scan';

// The nodes under test, as Node-RED loads them (module.exports = register).
export type NodeModule = (RED: NodeAPI) => void;
/* eslint-disable @typescript-eslint/no-require-imports */
export const configNodeModule = require('../../nodes/node-red/roboflow-config') as NodeModule;
export const streamNodeModule = require('../../nodes/node-red/roboflow-stream') as NodeModule;
export const videoJobNodeModule = require('../../nodes/node-red/roboflow-video-job') as NodeModule;
export const visionEventNodeModule = require('../../nodes/node-red/roboflow-vision-event') as NodeModule;
export const objectsNodeModule = require('../../nodes/node-red/roboflow-objects') as NodeModule;
export const workflowNodeModule = require('../../nodes/node-red/roboflow-workflow') as NodeModule;
/* eslint-enable @typescript-eslint/no-require-imports */
export const ALL_NODES = [configNodeModule, streamNodeModule, videoJobNodeModule, visionEventNodeModule, objectsNodeModule, workflowNodeModule];

helper.init(require.resolve('node-red'));
scanNodeRedOutput();

/**
 * Feeds the secret scan (secret-scan.ts) with what a user could see of the nodes: every
 * status, log line and sent message (the Debug sidebar), and Node-RED's own log. Patched
 * once, under the helper's per-load spies, so it sees every load of every suite.
 */
function scanNodeRedOutput(): void {
  const internals = helper as unknown as { _NodePrototype: Record<string, (...args: unknown[]) => unknown>; _log: { log: (entry: unknown) => void } };
  const prototype = internals._NodePrototype;
  for (const method of ['status', 'send', 'log', 'warn', 'error', 'debug', 'trace']) {
    const original = prototype[method];
    prototype[method] = function (this: unknown, ...args: unknown[]) {
      scanner.value(`node ${method}`, args);
      return original.apply(this, args);
    };
  }
  const log = internals._log;
  const originalLog = log.log.bind(log);
  log.log = (entry: unknown) => {
    scanner.value('Node-RED log', entry);
    originalLog(entry);
  };
}

/** A fresh Node-RED user directory for each suite (video jobs and event queues are kept there). */
export function useUserDir(): string {
  const userDir = mkdtempSync(join(tmpdir(), 'roboflow-nr-'));
  helper.settings({ userDir });
  return userDir;
}

export { helper };

/** Records every status a node shows. */
export function recordStatuses(node: Node): NodeStatus[] {
  const statuses: NodeStatus[] = [];
  (node as unknown as EventEmitter).on('call:status', (call: { args: [NodeStatus] }) => statuses.push(call.args[0]));
  return statuses;
}

/** Records what a node writes to the log at one level (`log`, `warn`, `error`), as text. */
export function recordLogs(node: Node, level: 'log' | 'warn' | 'error'): string[] {
  const lines: string[] = [];
  (node as unknown as EventEmitter).on(`call:${level}`, (call: { args: [unknown] }) => lines.push(String(call.args[0])));
  return lines;
}

/** Collects the messages a helper node receives. */
export function collect(node: Node): NodeMessage[] {
  const messages: NodeMessage[] = [];
  node.on('input', (msg: NodeMessage) => messages.push(msg));
  return messages;
}

/** Records what a node logs as errors (node.error calls), with their messages. */
export function recordErrors(node: Node): Array<{ text: string; msg?: NodeMessage }> {
  const errors: Array<{ text: string; msg?: NodeMessage }> = [];
  (node as unknown as EventEmitter).on('call:error', (call: { args: [unknown, NodeMessage?] }) => errors.push({ text: String(call.args[0]), msg: call.args[1] }));
  return errors;
}

/** A node of a test flow. */
export interface FlowNode {
  id: string;
  type: string;
  [property: string]: unknown;
}

export const configNode = (url: string, id = 'cfg'): FlowNode => ({ id, type: 'roboflow-config', name: 'local', serverUrl: url, apiUrl: url, region: 'us', plan: 'webrtc-gpu-small', version: 1 });

/**
 * Puts nodes on one tab (Catch nodes only catch within their flow) with a position
 * (Node-RED takes a node without x/y for a config node); config nodes stay global.
 */
export function onTab(nodes: FlowNode[]): FlowNode[] {
  return [{ id: 'tab', type: 'tab', label: 'test' }, ...nodes.map((node) => (node.type === 'roboflow-config' || node.z ? node : { x: 100, y: 100, ...node, z: 'tab' }))];
}

/**
 * What a node logged at `level` (node.warn / node.error) since the flow was loaded, read
 * from Node-RED's log: complete even for what it said while the flow was starting.
 */
export function loggedBy(nodeId: string, level: 'warn' | 'error'): string[] {
  const log = helper.log() as unknown as { WARN: number; ERROR: number; args: Array<[{ level?: number; id?: string; msg?: unknown }]> };
  const wanted = level === 'warn' ? log.WARN : log.ERROR;
  return log.args.filter(([entry]) => entry?.level === wanted && entry.id === nodeId).map(([entry]) => String(entry.msg));
}

export const loggedWarnings = (nodeId: string): string[] => loggedBy(nodeId, 'warn');
