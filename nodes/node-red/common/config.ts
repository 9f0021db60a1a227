import type { Node, NodeAPI } from 'node-red';
import { RoboflowError, type DailyBudget, type HttpClient, type RoboflowConnection } from '../../../lib';

/** What the Roboflow config node offers the nodes that use it. */
export interface RoboflowConfigNode extends Node<{ apiKey?: string }> {
  /** The validated connection; throws a RoboflowError saying what to fix. */
  connection(): RoboflowConnection;
  /** The shared HTTP client (one keep-alive pool for every node on this config). */
  http(): HttpClient;
  /**
   * A node starts using this config (call once in its constructor, with its own id).
   * The config node counts its users, as Node-RED's MQTT broker node does.
   */
  register(nodeId: string): void;
  /** The node no longer uses this config (call in its close handler). */
  deregister(nodeId: string): void;
  /** The ids of the nodes using this config now. */
  readonly users: ReadonlySet<string>;
  /** The daily stream time of this config's streams (counted always; limited when a budget is set). */
  budget(): DailyBudget;
  /** The "Minutes per credit" set on this config, or undefined for the plan's own rate. */
  minutesPerCredit(): number | undefined;
}

export function isRoboflowConfig(node: unknown): node is RoboflowConfigNode {
  return !!node && typeof (node as { connection?: unknown }).connection === 'function' && (node as { type?: unknown }).type === 'roboflow-config';
}

/** The config node a node points at, or an error telling the user to pick one. */
export function configNode(RED: NodeAPI, id: unknown): RoboflowConfigNode {
  const node = typeof id === 'string' && id ? RED.nodes.getNode(id) : undefined;
  if (!isRoboflowConfig(node)) {
    throw new RoboflowError('invalid-input', 'No Roboflow config selected: open the node and pick or add a Roboflow config (API key)');
  }
  return node;
}
