#!/usr/bin/env node
// Runs n8n's community-node lint on the n8n side of the package, installing the
// tooling into tools/n8n-lint on first use (with --ignore-scripts: a dependency's
// install script insists on pnpm, and nothing there needs a build step).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, 'tools', 'n8n-lint');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (!existsSync(join(tools, 'node_modules', '@n8n', 'node-cli'))) {
  console.log('Installing the n8n lint tooling (first run only)...');
  execFileSync(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tools, stdio: 'inherit' });
}
const eslint = join(tools, 'node_modules', 'eslint', 'bin', 'eslint.js');
try {
  execFileSync(process.execPath, [eslint, ...process.argv.slice(2), '.'], { cwd: root, stdio: 'inherit' });
  console.log('n8n lint passed');
} catch {
  process.exit(1);
}
