import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { resolveConnection, type RoboflowConnection } from '../../lib';

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'server', 'cli.js');
export const API_KEY = 'test-key-0123456789';

export interface RunningServer {
  url: string;
  process: ChildProcess;
  /** Everything the server printed (stdout + stderr), for assertions and secret scans. */
  output: string[];
  connection(overrides?: Partial<RoboflowConnection>): RoboflowConnection;
  faults(update: Record<string, unknown>): Promise<void>;
  resetFaults(): Promise<void>;
  sessions(): Promise<{ active: Array<{ id: string; state: string; framesProcessed: number; source: string }>; ended: Array<{ id: string; endedReason?: string }>; started: number; endedTotal: number }>;
  cameras(): Promise<Array<{ name: string; mjpeg_url: string; rtsp_url: string | null }>>;
  json<T = unknown>(path: string, init?: RequestInit): Promise<T>;
  stop(): Promise<number | null>;
}

/**
 * Starts the built local server (dist/server/cli.js, the `roboflow-local-server` bin)
 * as a child process on a free port, and waits for its "listening on" line.
 */
export async function startLocalServer(args: string[] = [], env: Record<string, string> = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--api-key', API_KEY, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const output: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => output.push(text));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local server did not start: ${output.join('')}`)), 30_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      output.push(text);
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local server exited (${code}): ${output.join('')}`));
    });
  });
  const json = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(url + path, init);
    const text = await response.text();
    if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    url,
    process: child,
    output,
    connection: (overrides = {}) => resolveConnection({ apiKey: API_KEY, serverUrl: url, apiUrl: url, ...overrides }),
    faults: async (update) => {
      await json('/local/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(update) });
    },
    resetFaults: async () => {
      await json('/local/faults', { method: 'DELETE' });
    },
    sessions: () => json('/local/sessions'),
    cameras: () => json('/local/cameras'),
    json,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
