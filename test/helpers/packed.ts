import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/lib/node-red-process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let tarball: string | undefined;

/** The package as `npm pack` makes it (what a user installs), packed once per test run. */
export function packedPackage(): string {
  if (!tarball) {
    const work = mkdtempSync(join(tmpdir(), 'roboflow-pack-'));
    const file = execFileSync(npm, ['pack', '--silent', '--pack-destination', work], { cwd: REPO_ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
    tarball = join(work, file);
  }
  return tarball;
}

/** Installs the packed package into `dir` (a Node-RED user dir, an n8n nodes folder) the way a user does. */
export function installPackedPackage(dir: string): void {
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', packedPackage()], { cwd: dir, stdio: 'ignore' });
}
