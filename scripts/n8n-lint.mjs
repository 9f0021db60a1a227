#!/usr/bin/env node
// Runs n8n's community-node lint on the n8n side of the package, installing the
// tooling into tools/n8n-lint on first use, exactly as its committed lockfile says:
// `npm ci` (never `npm install`, which would rewrite the lockfile), with --ignore-scripts
// (a dependency's install script insists on pnpm, and nothing there needs a build step).
// A lockfile that changed since the last install (a pull) is installed again.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, 'tools', 'n8n-lint');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const lockHash = createHash('sha256')
  .update(readFileSync(join(tools, 'package-lock.json')))
  .digest('hex');
const stamp = join(tools, 'node_modules', '.installed-lockfile-sha256');
const installed = existsSync(join(tools, 'node_modules', '@n8n', 'node-cli')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === lockHash;
if (!installed) {
  console.log('Installing the n8n lint tooling from its lockfile (npm ci; first run only)...');
  execFileSync(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tools, stdio: 'inherit' });
  writeFileSync(stamp, lockHash);
}
const eslint = join(tools, 'node_modules', 'eslint', 'bin', 'eslint.js');
try {
  execFileSync(process.execPath, [eslint, ...process.argv.slice(2), '.'], { cwd: root, stdio: 'inherit' });
  console.log('n8n lint passed');
} catch {
  process.exit(1);
}
