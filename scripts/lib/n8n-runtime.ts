import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tapOutput } from './output-tap';
import { NODE_24_VERSION, TOOLS_DIR, nodeBinaryIn, nodePackageName } from './tools';

/**
 * A real n8n for end-to-end tests, installed on demand into tools/n8n-runtime (ignored
 * by git): n8n 2.41.0, which needs Node.js 24, so Node 24 comes from the registry's
 * per-platform `node-<os>-<arch>` package, for n8n only. Notes from installing it here:
 * - `npm install --ignore-scripts`: a dependency (isolated-vm) would try to compile for
 *   Node 24 with this machine's Node 20 headers; nothing n8n needs to start uses it.
 * - sqlite3 (n8n's default database) then needs its native binding: `npm rebuild
 *   sqlite3` compiles it from source (no prebuilt download offline). It is N-API, so a
 *   build against Node 20's headers loads in Node 24.
 * - n8n 1.x cannot be installed offline (a dependency is fetched from cdn.sheetjs.com);
 *   2.41.0 resolves from the registry (2.41.3 does not).
 */

export const N8N_VERSION = '2.41.0';
export const NODE_VERSION = NODE_24_VERSION;
const RUNTIME_DIR = join(TOOLS_DIR, 'n8n-runtime');

export interface N8nRuntime {
  node: string;
  n8n: string;
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export function ensureN8nRuntime(log: (line: string) => void = console.log): N8nRuntime {
  const nodePackage = nodePackageName();
  const node = nodeBinaryIn(RUNTIME_DIR);
  const n8n = join(RUNTIME_DIR, 'node_modules', 'n8n', 'bin', 'n8n');
  const binding = join(RUNTIME_DIR, 'node_modules', 'sqlite3', 'build', 'Release', 'node_sqlite3.node');
  if (existsSync(node) && existsSync(n8n) && existsSync(binding)) return { node, n8n };
  mkdirSync(RUNTIME_DIR, { recursive: true });
  writeFileSync(join(RUNTIME_DIR, 'package.json'), JSON.stringify({ name: 'n8n-runtime-for-tests', private: true, dependencies: { n8n: N8N_VERSION, [nodePackage]: NODE_VERSION } }, null, 2));
  log(`Installing n8n ${N8N_VERSION} and Node.js ${NODE_VERSION} into tools/n8n-runtime (first run only; a few minutes)...`);
  execFileSync(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: RUNTIME_DIR, stdio: 'inherit' });
  log('Building the sqlite3 binding for n8n...');
  execFileSync(npm, ['rebuild', 'sqlite3', '--loglevel=error'], { cwd: RUNTIME_DIR, stdio: 'ignore' });
  if (!existsSync(binding)) throw new Error('sqlite3 did not build: n8n cannot start without its database');
  return { node, n8n };
}

/** Environment for a quiet, offline, loopback-only n8n with its own user folder. */
export function n8nEnvironment(userFolder: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    N8N_USER_FOLDER: userFolder,
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_RUNNERS_ENABLED: 'false',
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Runs an n8n CLI command to completion: its exit status, stdout and stderr. */
export function n8nRun(runtime: N8nRuntime, env: NodeJS.ProcessEnv, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(runtime.node, [runtime.n8n, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
  tapOutput(`n8n ${args[0]}`, result.stdout ?? '');
  tapOutput(`n8n ${args[0]}`, result.stderr ?? '');
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Runs an n8n CLI command that must succeed and returns what it printed. */
export function n8nCommand(runtime: N8nRuntime, env: NodeJS.ProcessEnv, args: string[]): string {
  const result = n8nRun(runtime, env, args);
  if (result.status !== 0) throw new Error(`n8n ${args.join(' ')} failed (${result.status}): ${(result.stderr || result.stdout).slice(-3000)}`);
  return result.stdout;
}

/** Starts `n8n start` (the main instance) and resolves once its editor is up. */
export function startN8n(runtime: N8nRuntime, env: NodeJS.ProcessEnv, output: string[]): Promise<ChildProcess> {
  return startN8nProcess(runtime, env, output, 'start', /Editor is now accessible/);
}

/** Starts `n8n worker` (queue mode) and resolves once it takes jobs. */
export function startN8nWorker(runtime: N8nRuntime, env: NodeJS.ProcessEnv, output: string[]): Promise<ChildProcess> {
  return startN8nProcess(runtime, env, output, 'worker', /n8n worker is now ready/);
}

function startN8nProcess(runtime: N8nRuntime, env: NodeJS.ProcessEnv, output: string[], command: 'start' | 'worker', ready: RegExp): Promise<ChildProcess> {
  // Its own process group: n8n starts a task runner child, and stopN8n ends both.
  const child = spawn(runtime.node, [runtime.n8n, command], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const name = command === 'start' ? 'n8n' : 'n8n worker';
  return new Promise((resolve, reject) => {
    // Generous: on a loaded 2-core machine n8n 2.41 took over two minutes to start.
    const timer = setTimeout(() => {
      void stopN8n(child); // Never left running behind a failed start.
      reject(new Error(`${name} did not start: ${output.join('').slice(-3000)}`));
    }, 300_000);
    const onText = (text: string): void => {
      output.push(text);
      tapOutput(name, text);
      if (ready.test(output.join(''))) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onText);
    child.stderr?.setEncoding('utf8').on('data', onText);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}): ${output.join('').slice(-3000)}`));
    });
  });
}

export interface TriggerStatus {
  workflowId: string;
  nodeId: string;
  status: string;
  errorMessage: string | null;
}

/**
 * What n8n 2.41 recorded about each published trigger (its `workflow_publication_trigger_status`
 * table: `activated`, or `failed` with the error the editor shows), read from the SQLite
 * database with the runtime's own sqlite3 binding (N-API: it loads in this Node too).
 */
export function triggerStatuses(userFolder: string): Promise<TriggerStatus[]> {
  // A module outside this package's tree, found at run time: only require() can load it here.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sqlite3 = require(join(RUNTIME_DIR, 'node_modules', 'sqlite3')) as {
    Database: new (
      file: string,
      mode: number,
      callback: (error: Error | null) => void,
    ) => {
      all(sql: string, callback: (error: Error | null, rows: TriggerStatus[]) => void): void;
      close(): void;
    };
    OPEN_READONLY: number;
  };
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(join(userFolder, '.n8n', 'database.sqlite'), sqlite3.OPEN_READONLY, (error) => {
      if (error) {
        reject(error);
        return;
      }
      db.all('SELECT workflowId, nodeId, status, errorMessage FROM workflow_publication_trigger_status', (queryError, rows) => {
        db.close();
        if (queryError) reject(queryError);
        else resolve(rows);
      });
    });
  });
}

/**
 * Stops an n8n started by startN8n or startN8nWorker: SIGTERM to its process group (n8n and its task
 * runner), SIGKILL if it has not exited after `graceMs` (n8n's own shutdown allows 30 s).
 */
export async function stopN8n(child: ChildProcess, graceMs = 45_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-pid, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
