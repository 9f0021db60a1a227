import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/node-red-process';
import { tapOutput } from '../../scripts/lib/output-tap';

/**
 * Throw-away Redis and PostgreSQL for n8n's queue mode, from Debian's `redis-server` and
 * `postgresql` packages: each on a free loopback port, with its data in a temporary
 * folder, started by the test as a child process and stopped by it (by PID).
 */

export interface Service {
  port: number;
  process: ChildProcess;
  output: string[];
  stop(): Promise<void>;
}

/** Waits for `ready` in what `child` prints (bounded), and keeps all of it in `output`. */
function started(name: string, child: ChildProcess, output: string[], ready: RegExp, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in ${timeoutMs / 1000} s: ${output.join('').slice(-2000)}`)), timeoutMs);
    const onText = (text: string): void => {
      output.push(text);
      tapOutput(name, text);
      if (ready.test(output.join(''))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onText);
    child.stderr?.setEncoding('utf8').on('data', onText);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}): ${output.join('').slice(-2000)}`));
    });
  });
}

/** Stops a child with `signal`, SIGKILL after `graceMs`; resolves when it has exited. */
function stopper(child: ChildProcess, signal: NodeJS.Signals, graceMs = 20_000): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
}

/** Redis with nothing saved to disk: the queue lives as long as the test. */
export async function startRedis(): Promise<Service> {
  const port = await freePort(0);
  const dir = mkdtempSync(join(tmpdir(), 'roboflow-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  await started('redis', child, output, /Ready to accept connections/);
  const stop = stopper(child, 'SIGTERM');
  return { port, process: child, output, stop: () => stop().then(() => rmSync(dir, { recursive: true, force: true })) };
}

/** Debian keeps PostgreSQL's server programs out of the PATH, per major version: the newest. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const bin = versions.map((version) => join(root, version, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  if (!bin) throw new Error('PostgreSQL is not installed: apt-get install postgresql (.ci/run does)');
  return bin;
}

/**
 * PostgreSQL refuses to run as root; as root the cluster belongs to Debian's `postgres`
 * user (created by the package), and its programs run as that user.
 */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface Postgres extends Service {
  user: string;
  database: string;
}

/** A fresh cluster (initdb) in a temporary folder, trust auth on loopback only, with one database. */
export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  const owner = runAs();
  const base = mkdtempSync(join(tmpdir(), 'roboflow-postgres-'));
  const data = join(base, 'data');
  const sockets = join(base, 'sockets');
  mkdirSync(sockets);
  if (owner) {
    for (const dir of [base, sockets]) chownSync(dir, owner.uid, owner.gid);
  }
  const user = 'n8n';
  const database = 'n8n';
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'], { stdio: 'ignore', ...owner });
  const port = await freePort(0);
  // No durability needed: fsync off makes the cluster fast on a busy machine.
  const child = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', sockets, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...owner,
    },
  );
  const output: string[] = [];
  await started('postgres', child, output, /database system is ready to accept connections/);
  execFileSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', user, database], { stdio: 'ignore', ...owner });
  // SIGINT: PostgreSQL's fast shutdown (ends sessions, no waiting for clients).
  const stop = stopper(child, 'SIGINT');
  return { port, process: child, output, user, database, stop: () => stop().then(() => rmSync(base, { recursive: true, force: true })) };
}
