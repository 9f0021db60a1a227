import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/**
 * Runtimes the tests need beside the machine's own Node.js, installed from the npm
 * registry on first use into a folder under tools/ (ignored by git) and reused after.
 *
 * Node.js itself comes from the registry too: the per-platform `node-<os>-<arch>`
 * package ships the binary (no npm inside), which is how Node-RED 5 (Node >= 22.9) and
 * n8n 2.x (Node >= 24) run on a machine whose Node is 20.
 */

export const REPO_ROOT = join(__dirname, '..', '..');
export const TOOLS_DIR = join(REPO_ROOT, 'tools');

/** The Node.js 24 every newer runtime uses: one version, so a CI cache holds it once per runtime folder. */
export const NODE_24_VERSION = '24.21.0';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export function nodePackageName(): string {
  return `node-${process.platform}-${process.arch}`;
}

/** The Node.js binary of a tools folder that installed `nodePackageName()`. */
export function nodeBinaryIn(dir: string): string {
  return join(dir, 'node_modules', nodePackageName(), 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
}

/**
 * Environment under which `npm` (and anything else started by name) runs on `node`:
 * its folder first on the PATH, as on a machine where that Node is the one installed.
 */
export function environmentFor(node: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, PATH: [dirname(node), base.PATH ?? ''].join(delimiter) };
}

export interface ToolsInstall {
  /** Folder under tools/. */
  dir: string;
  /** Exact versions: a tools folder is a pinned environment, not a range. */
  dependencies: Record<string, string>;
  /** Skip every install script (the default): nothing compiles for the wrong Node by accident. */
  ignoreScripts?: boolean;
  log?: (line: string) => void;
  what: string;
}

/**
 * Installs `dependencies` into `dir` unless an earlier install there had exactly the same
 * ones (recorded in its package.json). Returns whether it installed.
 */
export function installTools({ dir, dependencies, ignoreScripts = true, log = console.log, what }: ToolsInstall): boolean {
  const manifest = join(dir, 'package.json');
  const wanted = JSON.stringify(dependencies);
  const installed = existsSync(manifest) ? JSON.stringify((JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: unknown }).dependencies) : '';
  if (installed === wanted && existsSync(join(dir, 'node_modules', '.package-lock.json'))) return false;
  mkdirSync(dir, { recursive: true });
  writeFileSync(manifest, JSON.stringify({ name: `tools-${dir.split(/[\\/]/).pop()}`, private: true, dependencies }, null, 2));
  log(`Installing ${what} into ${dir} (first run only)...`);
  const started = Date.now();
  execFileSync(npm, ['install', ...(ignoreScripts ? ['--ignore-scripts'] : []), '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  log(`Installed ${what} in ${Math.round((Date.now() - started) / 1000)} s`);
  return true;
}
