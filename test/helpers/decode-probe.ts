/**
 * Run in a child process by the image-limit tests: decodes one image file the way the
 * engine does (`frame`: the frames source; `snapshot`: an alert snapshot) and prints, as
 * one JSON line, the outcome and how far the process's peak RSS grew while doing it. A
 * fresh process, so the peak belongs to this one image and nothing else.
 *   node --require tsx/cjs test/helpers/decode-probe.ts frame|snapshot <file>
 */
import { readFileSync } from 'node:fs';
import { decodeImage } from '../../lib/stream/frame-source';
import { renderSnapshot } from '../../lib/objects/snapshot';

async function main(): Promise<void> {
  const [kind, file] = process.argv.slice(2);
  const image = readFileSync(file);
  // sharp and the engine are loaded: what follows is the image's own cost.
  const before = process.resourceUsage().maxRSS;
  let outcome: Record<string, unknown>;
  try {
    if (kind === 'snapshot') {
      const snapshot = await renderSnapshot(image, [{ box: { x: 100, y: 100, width: 50, height: 50 }, label: 'thing' }], { draw: true });
      outcome = { ok: true, width: snapshot.width, height: snapshot.height };
    } else {
      const frame = await decodeImage(image);
      outcome = { ok: true, width: frame.width, height: frame.height };
    }
  } catch (error) {
    outcome = { ok: false, message: (error as Error).message };
  }
  const growthMB = (process.resourceUsage().maxRSS - before) / 1024;
  process.stdout.write(`${JSON.stringify({ ...outcome, growthMB: Math.round(growthMB) })}\n`);
}

void main();
