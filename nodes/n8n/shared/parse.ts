import { RoboflowError } from '../../../lib';

/** Comma-separated names ("a, b") or a list, as a clean list. */
export function nameList(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value ?? '').split(',');
  return items.map((item) => item.trim()).filter(Boolean);
}

/** A JSON object given as text or already parsed; empty gives undefined. */
export function jsonObject(value: unknown, what: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let parsed = value;
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
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RoboflowError('invalid-input', `${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}
