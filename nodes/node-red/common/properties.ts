import type { Node, NodeAPI, NodeMessage } from 'node-red';

/** A typed input (`str`, `env`, `msg`, `flow`, `global`, ...) evaluated for a message. */
export function evaluate(RED: NodeAPI, node: Node, value: string | undefined, type: string | undefined, msg: NodeMessage | undefined): Promise<unknown> {
  if (value === undefined || value === '') return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, type || 'str', node, msg ?? {}, (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result)));
  });
}

/** Comma-separated names to a list ("a, b" -> ["a", "b"]); empty text gives []. */
export function nameList(text: unknown): string[] {
  if (Array.isArray(text)) return text.map(String).map((name) => name.trim()).filter(Boolean);
  return String(text ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}

export function asBoolean(value: unknown, fallback: boolean): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fallback;
}
