import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/lib/node-red-process';

/**
 * The English message catalogue (each node's messages.json) is complete: every key a
 * dialog, a status, a log line or an error asks for exists, so a user never sees a raw
 * key such as "roboflow-stream.status.started". (The browser test checks the dialogs as
 * drawn; this covers every code path, including ones the browser never reaches.)
 */
const NODES_DIR = join(REPO_ROOT, 'nodes', 'node-red');

/** Node sets: one folder per node (named after its type) with its editor, help, messages and code. */
const SETS = readdirSync(NODES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'common')
  .map((entry) => entry.name);
const file = (set: string, name: string): string => join(NODES_DIR, set, name);

function lookup(catalogue: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((value, part) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined), catalogue);
}

function codeOf(set: string): string {
  return readdirSync(join(NODES_DIR, set))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => readFileSync(file(set, name), 'utf8'))
    .join('\n');
}

describe('Node-RED message catalogue (en-US)', () => {
  it('has a catalogue and a help page for every node', () => {
    assert.deepEqual(SETS.sort(), ['roboflow-config', 'roboflow-objects', 'roboflow-stream', 'roboflow-video-job', 'roboflow-vision-event', 'roboflow-workflow']);
    for (const set of SETS) {
      const catalogue = JSON.parse(readFileSync(file(set, 'messages.json'), 'utf8')) as Record<string, unknown>;
      assert.ok(catalogue[set], `${set}.json has the "${set}" namespace`);
      const help = readFileSync(file(set, 'help.html'), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${set}"`));
      assert.match(help, /<p>[^<]{20,}/, `${set} help starts with a sentence`);
    }
  });

  for (const set of SETS) {
    it(`${set}: every key used by its dialog and its code exists`, () => {
      const catalogue = JSON.parse(readFileSync(file(set, 'messages.json'), 'utf8')) as unknown;
      const html = readFileSync(file(set, 'editor.html'), 'utf8');
      const used = new Set<string>();
      // data-i18n="key" and data-i18n="[placeholder]key"
      for (const match of html.matchAll(/data-i18n="(?:\[\w+\])?([\w.-]+)"/g)) used.add(match[1]);
      // this._('key') in the editor script (a key that ends in '.' is completed at run time)
      for (const match of html.matchAll(/\b_\('([\w.-]+)'\)/g)) used.add(match[1]);
      // this.t('key') in the runtime code, relative to the set
      for (const match of codeOf(set).matchAll(/\bt\('([\w.-]+)'/g)) used.add(`${set}.${match[1]}`);
      assert.ok(used.size > 3, `${set}: found the keys it uses (${used.size})`);
      const missing = [...used].filter((key) => typeof lookup(catalogue, key) !== 'string');
      assert.deepEqual(missing, [], `${set}: keys missing from ${set}/messages.json`);
    });
  }

  it('covers the run-time completed keys: presets of the config node', () => {
    const catalogue = JSON.parse(readFileSync(file('roboflow-config', 'messages.json'), 'utf8')) as unknown;
    for (const preset of ['us', 'eu', 'local', 'custom']) assert.equal(typeof lookup(catalogue, `roboflow-config.preset.${preset}`), 'string');
  });
});
