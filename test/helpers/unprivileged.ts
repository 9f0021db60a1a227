import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from './local-server';

/** The user a root test process runs its unprivileged children as. */
export const NOBODY = { uid: 65534, gid: 65534 };

/** True when every directory above `path` lets others through, and `path` itself lets them `need`. */
function reachableByOthers(path: string, need: number): boolean {
  let current = resolve(path);
  if ((statSync(current).mode & need) !== need) return false;
  for (current = dirname(current); ; current = dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) return false;
    if (dirname(current) === current) return true;
  }
}

/**
 * Modules of this repository compiled (TypeScript -> CommonJS, following their relative
 * imports) into `dir`, keeping their layout under lib/. The build (dist/) is not needed,
 * and the copy is readable wherever the checkout is not: a clone in a 0700 home directory.
 */
function compileInto(dir: string, entry: string): string {
  const pending = [resolve(ROOT, entry)];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), `${match[1]}.ts`);
      if (existsSync(target)) pending.push(target);
    }
    const output = join(dir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText);
  }
  return join(dir, entry.replace(/\.ts$/, '.js'));
}

export interface UnprivilegedSandbox {
  /** A directory everyone may enter (0755), for the files the unprivileged child works on. */
  dir: string;
  /**
   * Runs `script` (CommonJS, with `entry`'s exports as `engine`) as `nobody` when this
   * process is root (root reads any file), else as this user; returns what it printed.
   */
  run(script: string): string;
  /** Deletes the directory. */
  remove(): void;
}

/**
 * A place where a child running as another user can really run engine code: the code is
 * compiled into a world-readable temporary directory (the checkout may sit in a 0700
 * home directory), and so is the node binary when the one running the tests is not
 * reachable by others (nvm installs under the home directory).
 */
export function unprivilegedSandbox(entry: string): UnprivilegedSandbox {
  const base = [tmpdir(), '/tmp'].find((candidate) => existsSync(candidate) && reachableByOthers(candidate, 0o001));
  if (!base) throw new Error(`No temporary directory other users can enter (tried ${tmpdir()} and /tmp)`);
  const dir = mkdtempSync(join(base, 'roboflow-unprivileged-'));
  chmodSync(dir, 0o755);
  const module = compileInto(join(dir, 'code'), entry);
  let node = process.execPath;
  if (!reachableByOthers(node, 0o001)) {
    node = join(dir, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  accessSync(module, constants.R_OK);
  const asRoot = process.getuid?.() === 0;
  return {
    dir,
    run: (script) =>
      execFileSync(node, ['-e', `const engine = require(${JSON.stringify(module)});\n${script}`], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 30_000,
        ...(asRoot ? NOBODY : {}),
      }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
