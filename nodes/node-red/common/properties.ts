import type { Node, NodeAPI, NodeMessage } from 'node-red';

/** A typed input (`str`, `env`, `msg`, `flow`, `global`, ...) evaluated for a message. */
export function evaluate(RED: NodeAPI, node: Node, value: string | undefined, type: string | undefined, msg: NodeMessage | undefined): Promise<unknown> {
  if (value === undefined || value === '') return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, type || 'str', node, msg ?? {}, (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result)));
  });
}

/** How typed settings are read is the engine's (the same for n8n): re-exported for the nodes. */
export { asBoolean, jsonObject, mergeParameters, nameList } from '../../../lib';
