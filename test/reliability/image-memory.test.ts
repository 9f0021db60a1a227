import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/local-server';
import { sparsePng } from '../helpers/media';

/** Peak RSS growth allowed while one image is decoded (measured here: 2 MB refusing 16000x16000, 47-99 MB scaling 7000x7000 down; before the cap: 1 GB and 1.8 GB). */
const GROWTH_BOUND_MB = 256;

interface ProbeOutcome {
  ok: boolean;
  width?: number;
  height?: number;
  message?: string;
  growthMB: number;
}

/** Decodes `file` in a fresh process (see decode-probe.ts), so its peak RSS is this image's alone. */
async function probe(kind: 'frame' | 'snapshot', file: string): Promise<ProbeOutcome> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', join(ROOT, 'test', 'helpers', 'decode-probe.ts'), kind, file], { cwd: ROOT, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ProbeOutcome;
}

describe('reliability: bounded memory for any image (measured in a fresh process)', function () {
  this.timeout(90_000);

  for (const kind of ['frame', 'snapshot'] as const) {
    it(`${kind}: a 16000x16000 PNG (780 KB) is one clear error before anything is decoded; memory stays small`, async () => {
      const outcome = await probe(kind, await sparsePng(16000, 16000));
      assert.equal(outcome.ok, false, JSON.stringify(outcome));
      assert.match(outcome.message!, /is 16000x16000 \(256 MP\): larger than the 50 MP that are decoded at most; send a smaller image/);
      assert.ok(outcome.growthMB < GROWTH_BOUND_MB, `peak RSS grew ${outcome.growthMB} MB`);
    });

    it(`${kind}: a 7000x7000 PNG (49 MP) is scaled down to 1920x1920 while it is decoded; memory stays bounded`, async () => {
      const outcome = await probe(kind, await sparsePng(7000, 7000));
      assert.deepEqual([outcome.ok, outcome.width, outcome.height], [true, 1920, 1920], JSON.stringify(outcome));
      assert.ok(outcome.growthMB < GROWTH_BOUND_MB, `peak RSS grew ${outcome.growthMB} MB`);
    });
  }
});
