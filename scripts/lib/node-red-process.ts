import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { tapOutput } from './output-tap';
import { NODE_24_VERSION, REPO_ROOT, TOOLS_DIR, environmentFor, installTools, nodeBinaryIn, nodePackageName } from './tools';

/**
 * Runs a real Node-RED in a user directory of its own, and talks to it through its admin
 * HTTP API: what `npm start` and the end-to-end tests need. Two Node-REDs are tested:
 * 4.1 (this repository's dev dependency) on the machine's Node.js 20, and 5.0 on Node.js
 * 24, both from the registry, in tools/node-red-5 (installed on first use).
 */

export { REPO_ROOT };
export const PACKAGE_NAME = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string }).name;

/** The wanted port if it is free, else any free port. */
export function freePort(wanted = 0): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(freePort(0)));
    probe.listen(wanted, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : wanted;
      probe.close(() => resolve(port));
    });
  });
}

/** A Node-RED and the Node.js it runs on. */
export interface NodeRedRuntime {
  /** e.g. "Node-RED 5.0.7 on Node.js 24.21.0", for test titles and logs. */
  label: string;
  /** The major version: what a test may branch on (a theme, a sidebar). */
  major: number;
  nodeRedVersion: string;
  nodeVersion: string;
  /** The Node.js executable. */
  node: string;
  /** Node-RED's red.js. */
  redJs: string;
  /** Environment for this runtime's processes (npm included): its Node first on the PATH. */
  env: NodeJS.ProcessEnv;
}

export const NODE_RED_5_VERSION = '5.0.7';
const NODE_RED_5_DIR = join(TOOLS_DIR, 'node-red-5');

function versionOf(packageJson: string): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

/** Node-RED 4.1 from this repository's dev dependencies, on the Node.js running this code (20). */
export function nodeRed4(): NodeRedRuntime {
  const redJs = require.resolve('node-red/red.js', { paths: [REPO_ROOT] });
  const nodeRedVersion = versionOf(join(redJs, '..', 'package.json'));
  return {
    label: `Node-RED ${nodeRedVersion} on Node.js ${process.versions.node}`,
    major: Number(nodeRedVersion.split('.')[0]),
    nodeRedVersion,
    nodeVersion: process.versions.node,
    node: process.execPath,
    redJs,
    env: { ...process.env },
  };
}

/**
 * Node-RED 5 on Node.js 24, both from the registry, installed into tools/node-red-5 on
 * first use (about a minute, 300 MB). Node-RED's optional native bcrypt is left out
 * (install scripts off): it falls back to bcryptjs, as on any machine without a compiler.
 */
export function nodeRed5(log: (line: string) => void = console.log): NodeRedRuntime {
  installTools({
    dir: NODE_RED_5_DIR,
    dependencies: { 'node-red': NODE_RED_5_VERSION, [nodePackageName()]: NODE_24_VERSION },
    what: `Node-RED ${NODE_RED_5_VERSION} and Node.js ${NODE_24_VERSION}`,
    log,
  });
  const node = nodeBinaryIn(NODE_RED_5_DIR);
  const redJs = join(NODE_RED_5_DIR, 'node_modules', 'node-red', 'red.js');
  const nodeRedVersion = versionOf(join(NODE_RED_5_DIR, 'node_modules', 'node-red', 'package.json'));
  const nodeVersion = execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  return { label: `Node-RED ${nodeRedVersion} on Node.js ${nodeVersion}`, major: Number(nodeRedVersion.split('.')[0]), nodeRedVersion, nodeVersion, node, redJs, env: environmentFor(node) };
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * What a Node-RED process needs to find an ffmpeg for local camera capture: nothing when
 * the machine has one on its PATH (what a user installs: `apt install ffmpeg`), else the
 * binary of the `@ffmpeg-installer/ffmpeg` dev dependency through FFMPEG_PATH, so that the
 * suites of `npm test` need no system package.
 */
export function ffmpegEnvironment(): Record<string, string> {
  const onPath = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg')));
  if (onPath || process.env.FFMPEG_PATH) return {};
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return { FFMPEG_PATH: (require(require.resolve('@ffmpeg-installer/ffmpeg', { paths: [REPO_ROOT] })) as { path: string }).path };
}

/**
 * `npm install <tarball>` into a user dir, the way a user (or the palette manager) does on
 * a machine where `runtime`'s Node.js is the one installed: npm runs on that Node.
 */
export function installIntoUserDir(userDir: string, tarball: string, runtime: NodeRedRuntime = nodeRed4()): void {
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: userDir, env: runtime.env, stdio: 'ignore' });
}

export interface AdminUser {
  username: string;
  password: string;
}

export interface UserDirOptions {
  /** Install this package by linking the repository (fast, for the demo) instead of `npm install <tarball>` (done by the caller). */
  linkRepository?: boolean;
  credentialSecret?: string;
  /** Protect the editor and admin API with this user. */
  adminUser?: AdminUser;
}

/** Creates a Node-RED user directory with settings bound to loopback. */
export function prepareUserDir(userDir: string, options: UserDirOptions = {}): void {
  mkdirSync(userDir, { recursive: true });
  const settings = {
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    credentialSecret: options.credentialSecret ?? 'roboflow-demo-secret',
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    ...(options.adminUser
      ? {
          adminAuth: {
            type: 'credentials',
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            users: [{ username: options.adminUser.username, password: (require('bcryptjs') as typeof import('bcryptjs')).hashSync(options.adminUser.password, 8), permissions: '*' }],
          },
        }
      : {}),
  };
  writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const manifest = join(userDir, 'package.json');
  if (!existsSync(manifest)) writeFileSync(manifest, JSON.stringify({ name: 'node-red-user-dir', version: '1.0.0', private: true, dependencies: {} }, null, 2));
  if (options.linkRepository) {
    const [scope, name] = PACKAGE_NAME.split('/');
    const scopeDir = join(userDir, 'node_modules', scope);
    mkdirSync(scopeDir, { recursive: true });
    const link = join(scopeDir, name);
    if (!existsSync(link)) symlinkSync(REPO_ROOT, link, 'dir');
  }
}

export interface RunningNodeRed {
  url: string;
  process: ChildProcess;
  /** Everything Node-RED printed. */
  output: string[];
  deploy(flows: unknown[], type?: 'full' | 'nodes' | 'flows'): Promise<string>;
  getFlows(): Promise<unknown[]>;
  request(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<number | null>;
}

export interface NodeRedOptions {
  port?: number;
  env?: Record<string, string>;
  /** Options for the node process itself, before Node-RED's script (e.g. --expose-gc). */
  nodeArgs?: string[];
  logFile?: string;
  adminUser?: AdminUser;
  /** Which Node-RED on which Node.js: Node-RED 4.1 on this Node by default. */
  runtime?: NodeRedRuntime;
}

export async function startNodeRed(userDir: string, options: NodeRedOptions = {}): Promise<RunningNodeRed> {
  const port = options.port ?? (await freePort(0));
  const runtime = options.runtime ?? nodeRed4();
  const child = spawn(runtime.node, [...(options.nodeArgs ?? []), runtime.redJs, '-u', userDir, '-s', join(userDir, 'settings.js'), '-p', String(port)], {
    cwd: userDir,
    env: { ...runtime.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Node-RED did not start: ${output.join('').slice(-2000)}`)), 60_000);
    const onText = (text: string): void => {
      output.push(text);
      tapOutput('Node-RED', text);
      log?.write(text);
      // Ready once the flows of the start have started too (Node-RED prints "Started flows"
      // after "Server now running", even with no flows; or it waits for missing types):
      // a deploy made before that would take the start's message for its own.
      const all = output.join('');
      if (all.includes('Server now running at') && (all.includes('] Started flows') || all.includes('Waiting for missing types'))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onText);
    child.stderr?.setEncoding('utf8').on('data', onText);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Node-RED exited (${code}): ${output.join('').slice(-2000)}`));
    });
  });
  let token: string | undefined;
  if (options.adminUser) {
    const response = await fetch(`${url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', ...options.adminUser }),
    });
    if (!response.ok) throw new Error(`Node-RED login failed: ${response.status}`);
    token = ((await response.json()) as { access_token: string }).access_token;
  }
  const countStarts = (): number => output.join('').split('] Started flows').length - 1;
  const request = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${url}${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string> | undefined) } });
  return {
    url,
    process: child,
    output,
    request,
    async deploy(flows, type = 'full') {
      // Node-RED answers a deploy before the new flows have started; wait for them, or a
      // quick next deploy would clean the credentials those nodes are about to read.
      const startedBefore = countStarts();
      const response = await request('/flows', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'node-red-api-version': 'v2', 'node-red-deployment-type': type },
        body: JSON.stringify({ flows }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`deploy failed: ${response.status} ${text}`);
      const deadline = Date.now() + 30_000;
      while (countStarts() === startedBefore) {
        if (Date.now() > deadline) throw new Error(`the deployed flows did not start: ${output.join('').slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return (JSON.parse(text) as { rev: string }).rev;
    },
    async getFlows() {
      const response = await request('/flows', { headers: { 'node-red-api-version': 'v1' } });
      return (await response.json()) as unknown[];
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          resolve(child.exitCode);
          return;
        }
        child.once('exit', (code) => {
          log?.end();
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Reads the example flows shipped in examples/, in menu order. */
export function exampleFlows(): Array<{ file: string; flow: Array<Record<string, unknown>> }> {
  const dir = join(REPO_ROOT, 'examples');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readdirSync } = require('node:fs') as typeof import('node:fs');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, flow: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Array<Record<string, unknown>> }));
}

/**
 * The example flows pointed at a running local server (URLs and ports rewritten) and
 * given its API key, ready to deploy through the admin API.
 */
export function examplesFor(server: { url: string; rtspPort?: number; apiKey: string }, files?: string[]): Array<Record<string, unknown>> {
  const nodes: Array<Record<string, unknown>> = [];
  const seen = new Set<string>();
  for (const { file, flow } of exampleFlows()) {
    if (files && !files.includes(file)) continue;
    for (const node of flow) {
      // The examples share one config node (one key for all of them): deploy it once.
      if (seen.has(String(node.id))) continue;
      seen.add(String(node.id));
      let text = JSON.stringify(node).split('http://127.0.0.1:9001').join(server.url);
      if (server.rtspPort) text = text.split('rtsp://127.0.0.1:8554').join(`rtsp://127.0.0.1:${server.rtspPort}`);
      const copy = JSON.parse(text) as Record<string, unknown>;
      if (copy.type === 'roboflow-config') copy.credentials = { apiKey: server.apiKey };
      nodes.push(copy);
    }
  }
  return nodes;
}
