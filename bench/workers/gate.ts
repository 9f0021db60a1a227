import { readFileSync } from 'node:fs';
import { CapturedStream, ObjectEvents, detectionsIn, parseZonesAndLines, resolveConnection, silentLogger } from '../../lib';
import { report, round, sleep } from '../lib/measure';

/**
 * A recording with a little activity played as a camera, gated by motion or not, to the
 * local server's detect-colors workflow. Prints the zone entries the results show (each
 * visit enters the door zone once), the frames read, and the CPU time spent measuring
 * motion against the time ffmpeg spent decoding (from /proc).
 *
 * Usage: gate.ts <gated|ungated> <serverUrl> <apiKey> <file> <quietMs>
 */
const [mode, serverUrl, apiKey, file, quietMs] = process.argv.slice(2);

function childCpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const stream = new CapturedStream({
    connection: resolveConnection({ apiKey, serverUrl, apiUrl: serverUrl }),
    workflow: { workspace: 'bench', workflowId: 'detect-colors' },
    camera: { kind: 'file', path: file, loop: false },
    dataOutputs: ['predictions'],
    capture: { maxFps: 10 },
    ...(mode === 'gated' ? { gate: { mode: 'motion' as const, quietMs: Number(quietMs), preRollMs: 2_000, holdClasses: ['red'] } } : {}),
    logger: silentLogger,
  });
  const objects = new ObjectEvents({
    ...parseZonesAndLines({
      zones: [
        {
          name: 'door',
          polygon: [
            [400, 0],
            [640, 0],
            [640, 360],
            [400, 360],
          ],
        },
      ],
    }),
    classes: ['red'],
    leaveAfterMs: 1_000,
  });
  let entries = 0;
  let decodeMs = 0;
  stream.on('result', (result) => {
    const found = detectionsIn(result.data, 'predictions');
    if (!found) return;
    for (const event of objects.update(found.detections, Date.now())) if (event.type === 'zone-enter') entries++;
  });
  stream.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => stream.on('camera-ended', () => resolve()));
  const sampler = setInterval(() => (decodeMs = Math.max(decodeMs, childCpuMs(stream.ffmpegPid))), 200);
  stream.start();
  await ended;
  clearInterval(sampler);
  await sleep(500);
  await stream.stop();
  const frames = stream.frames;
  report({
    mode,
    zoneEntries: entries,
    framesIn: frames.framesIn,
    framesSent: frames.framesSent,
    motionMs: frames.motionMs,
    decodeMs,
    motionMsPer1000Frames: round((frames.motionMs / Math.max(1, frames.framesIn)) * 1000, 2),
    decodeMsPer1000Frames: round((decodeMs / Math.max(1, frames.framesIn)) * 1000, 1),
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
