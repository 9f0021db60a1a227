#!/usr/bin/env node
// What the TypeScript build does not produce, put where each platform looks for it.
// - Node-RED: each node lives in a folder of its own in the source
//   (nodes/node-red/<type>/{index.ts, controller.ts, migrations.ts, editor.html,
//   help.html, messages.json, icon.svg}); Node-RED finds a node's editor HTML, icon and
//   messages by the name of its .js file, beside it. So the build lays them out flat in
//   dist/nodes/node-red: <type>.js (a one-line entry requiring <type>/index.js),
//   <type>.html, icons/<type>.svg, locales/en-US/<type>.json and .html (the help).
// - n8n finds a node's codex (.node.json) beside its .js, and resolves the icons that
//   nodes and credentials name (file:../../../icons/roboflow.svg) from their .js, so the
//   one logo in icons/ goes to dist/icons/.
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const nodeRed = join(root, 'nodes', 'node-red');
const nodeRedOut = join(dist, 'nodes', 'node-red');
for (const folder of ['icons', join('locales', 'en-US')]) mkdirSync(join(nodeRedOut, folder), { recursive: true });
for (const entry of readdirSync(nodeRed, { withFileTypes: true })) {
  const type = entry.name;
  const source = join(nodeRed, type);
  if (!entry.isDirectory() || !existsSync(join(source, 'index.ts'))) continue;
  writeFileSync(join(nodeRedOut, `${type}.js`), `'use strict';\n// Node-RED looks for ${type}.html and locales/*/${type}.json beside this file.\nmodule.exports = require('./${type}/index.js');\n`);
  const copies = [
    ['editor.html', `${type}.html`],
    ['icon.svg', join('icons', `${type}.svg`)],
    ['messages.json', join('locales', 'en-US', `${type}.json`)],
    ['help.html', join('locales', 'en-US', `${type}.html`)],
  ];
  for (const [from, to] of copies) {
    if (existsSync(join(source, from))) cpSync(join(source, from), join(nodeRedOut, to));
  }
}

const n8n = join(root, 'nodes', 'n8n');
for (const folder of readdirSync(n8n, { withFileTypes: true })) {
  if (!folder.isDirectory() || folder.name === 'shared') continue;
  const out = join(dist, 'nodes', 'n8n', folder.name);
  mkdirSync(out, { recursive: true });
  for (const file of readdirSync(join(n8n, folder.name))) {
    if (file.endsWith('.node.json')) cpSync(join(n8n, folder.name, file), join(out, file));
  }
}
cpSync(join(root, 'icons'), join(dist, 'icons'), { recursive: true });
