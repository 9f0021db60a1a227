import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';

type Catalogue = Record<string, unknown>;
const catalogues = new Map<string, Catalogue>();

/** The English catalogue: where the build puts it (dist), else in the node's own folder (source, in tests). */
function bundled(set: string): Catalogue {
  let catalogue = catalogues.get(set);
  if (!catalogue) {
    catalogue = {};
    for (const path of [join(__dirname, '..', 'locales', 'en-US', `${set}.json`), join(__dirname, '..', set, 'messages.json')]) {
      try {
        catalogue = JSON.parse(readFileSync(path, 'utf8')) as Catalogue;
        break;
      } catch {
        // Not there: the next place.
      }
    }
    catalogues.set(set, catalogue);
  }
  return catalogue;
}

function lookup(catalogue: Catalogue, key: string): string | undefined {
  let value: unknown = catalogue;
  for (const part of key.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'string' ? value : undefined;
}

export type Translate = (key: string, vars?: Record<string, string | number>) => string;

/**
 * Message lookup for one node set (`roboflow-stream` etc.) through Node-RED's i18n,
 * falling back to the bundled English catalogue when the runtime has none loaded (the
 * test helper's RED._ returns keys), so users and tests see real text.
 */
export function translator(RED: NodeAPI, set: string): Translate {
  return (key, vars = {}) => {
    const full = `${set}.${key}`;
    const translated = RED._(full, vars);
    if (translated && translated !== full) return translated;
    const text = lookup(bundled(set), full) ?? full;
    return text.replace(/__(\w+)__/g, (_, name: string) => (name in vars ? String(vars[name]) : `__${name}__`));
  };
}
