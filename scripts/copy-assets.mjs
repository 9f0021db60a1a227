#!/usr/bin/env node
// Node-RED finds a node's editor HTML, icons and messages by position, beside the
// compiled .js: copy them from nodes/node-red/ into dist/nodes/node-red/.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'nodes', 'node-red');
const to = join(root, 'dist', 'nodes', 'node-red');
mkdirSync(to, { recursive: true });
for (const file of readdirSync(from)) {
  if (file.endsWith('.html')) cpSync(join(from, file), join(to, file));
}
for (const folder of ['icons', 'locales']) cpSync(join(from, folder), join(to, folder), { recursive: true });
