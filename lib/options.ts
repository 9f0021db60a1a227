import { RoboflowError } from './errors';

/**
 * How both platforms read what a user typed into a node: one place, so a Node-RED flow
 * and an n8n workflow with the same settings mean the same thing.
 */

/** Comma-separated names ("a, b") or a list, as a clean list. */
export function nameList(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value ?? '').split(',');
  return items.map((item) => item.trim()).filter(Boolean);
}

/** A JSON object given as text or already parsed; empty gives undefined; anything else says what to fix. */
export function jsonObject(value: unknown, what: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    if (!value.trim()) return undefined;
    let problem: string | undefined;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem) throw new RoboflowError('invalid-input', `${what} is not valid JSON: ${problem}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RoboflowError('invalid-input', `${what} must be an object (or JSON text of one)`);
  return parsed as Record<string, unknown>;
}

/** A checkbox value, as a boolean or its text. */
export function asBoolean(value: unknown, fallback: boolean): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fallback;
}

/**
 * A node's workflow parameters with a message's laid over them (an object, or JSON text
 * of one): what `msg.parameters` does in Node-RED.
 */
export function mergeParameters(fromNode: unknown, fromMessage: unknown): Record<string, unknown> {
  const base = jsonObject(fromNode, 'Parameters') ?? {};
  if (fromMessage === undefined) return base;
  const extra = jsonObject(fromMessage, 'msg.parameters');
  if (!extra) throw new RoboflowError('invalid-input', 'msg.parameters must be an object (or JSON text of one)');
  return { ...base, ...extra };
}
