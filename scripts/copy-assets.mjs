#!/usr/bin/env node
// What the TypeScript build does not copy, put where each platform looks for it:
// - Node-RED finds a node's editor HTML, icons and messages beside the compiled .js;
// - n8n finds a node's codex (.node.json) beside its .js, and resolves the icons that
//   nodes and the credential name (file:../../../icons/roboflow.svg) from their .js, so
//   the one logo in icons/ goes to dist/icons/.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const nodeRed = join(root, 'nodes', 'node-red');
const nodeRedOut = join(dist, 'nodes', 'node-red');
mkdirSync(nodeRedOut, { recursive: true });
for (const file of readdirSync(nodeRed)) {
  if (file.endsWith('.html')) cpSync(join(nodeRed, file), join(nodeRedOut, file));
}
for (const folder of ['icons', 'locales']) cpSync(join(nodeRed, folder), join(nodeRedOut, folder), { recursive: true });

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
