import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/local-server';

interface BenchRow {
  section: string;
  metric: string;
  ours: number;
  reference: number | null;
  ratio: number | null;
}

/**
 * Keeps `npm run bench` working: its smoke variant (every benchmark, briefly, with small
 * inputs) produces a finite figure and ratio for each row. Whether they are fast is the
 * full benchmark's business, never a unit test's.
 */
describe('benchmarks (smoke run)', function () {
  this.timeout(240_000);

  it('measures every benchmark side by side and writes the JSON and the Markdown table', async () => {
    const out = mkdtempSync(join(tmpdir(), 'roboflow-bench-smoke-'));
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(ROOT, 'bench', 'run.ts'), '--smoke', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.setEncoding('utf8').on('data', (text: string) => output.push(text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => output.push(text));
      child.on('exit', resolve);
    });
    assert.equal(code, 0, output.join('').slice(-3000));
    const result = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { smoke: boolean; rows: BenchRow[] };
    assert.equal(result.smoke, true);
    const sections = new Set(result.rows.map((row) => Number(/^(\d+)\./.exec(row.section)?.[1])));
    assert.deepEqual(
      [...sections].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    for (const row of result.rows) {
      // Memory growth over a run may be nothing, or less than nothing (the collector gave
      // memory back): any measured figure. Every other figure is a rate, a time or a cost.
      const growth = row.metric.includes('RSS growth over');
      assert.ok(Number.isFinite(row.ours) && (growth || row.ours > 0), `${row.section} ${row.metric}: a figure (${row.ours})`);
      if (row.reference !== null) assert.ok(Number.isFinite(row.reference) && row.reference > 0, `${row.metric}: a reference figure`);
      if (row.ratio !== null) assert.ok(Number.isFinite(row.ratio) && (growth || row.ratio > 0), `${row.metric}: a ratio (${row.ratio})`);
    }
    assert.ok(result.rows.some((row) => `${row.section} ${row.metric}`.includes('latency: 1280x720@30 p99') || row.metric.includes('1280x720@30 p99')));
    const table = readFileSync(join(out, 'latest.md'), 'utf8');
    assert.match(table, /\| Benchmark \| Ours \| Reference \| Ratio \| Target \| Met \|/);
    assert.equal(table.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Benchmark') && !line.startsWith('| ---')).length, result.rows.length);
  });
});
