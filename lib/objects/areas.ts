import { RoboflowError } from '../errors';
import type { LineSpec, ZoneSpec } from './object-events';

export interface ZonesAndLines {
  zones: ZoneSpec[];
  lines: LineSpec[];
}

function isPoint(value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 && value.every((n) => typeof n === 'number' && Number.isFinite(n));
}

/** Reads zones and lines (JSON text, or the object itself), saying what is wrong in terms a user can fix. */
export function parseZonesAndLines(input: unknown): ZonesAndLines {
  if (input === undefined || input === null || (typeof input === 'string' && !input.trim())) return { zones: [], lines: [] };
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new RoboflowError('invalid-input', `Zones and lines are not valid JSON: ${(error as Error).message}`);
    }
  }
  const record = (value ?? {}) as { zones?: unknown; lines?: unknown };
  const zones = Array.isArray(record.zones) ? record.zones : [];
  const lines = Array.isArray(record.lines) ? record.lines : [];
  const names = new Set<string>();
  const named = (item: { name?: unknown }, kind: string, index: number): string => {
    const name = typeof item.name === 'string' && item.name.trim() ? item.name.trim() : '';
    if (!name) throw new RoboflowError('invalid-input', `${kind} ${index + 1} needs a "name"`);
    if (names.has(name)) throw new RoboflowError('invalid-input', `Two zones or lines are called "${name}"`);
    names.add(name);
    return name;
  };
  return {
    zones: zones.map((item: { name?: unknown; polygon?: unknown }, index) => {
      const name = named(item, 'Zone', index);
      if (!Array.isArray(item.polygon) || item.polygon.length < 3 || !item.polygon.every(isPoint))
        throw new RoboflowError('invalid-input', `Zone "${name}" needs a "polygon" of at least 3 [x, y] points`);
      return { name, polygon: item.polygon };
    }),
    lines: lines.map((item: { name?: unknown; from?: unknown; to?: unknown }, index) => {
      const name = named(item, 'Line', index);
      if (!isPoint(item.from) || !isPoint(item.to)) throw new RoboflowError('invalid-input', `Line "${name}" needs "from" and "to" as [x, y] points`);
      return { name, from: item.from, to: item.to };
    }),
  };
}
