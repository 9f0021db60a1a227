import { strict as assert } from 'node:assert';
import { CapturedStream } from '../../lib';
import { eventually, startLocalServer, type RunningServer } from '../helpers/local-server';

/** 30 s in `npm test`; an hour with ROBOFLOW_SOAK=1. */
const SECONDS = process.env.ROBOFLOW_SOAK === '1' ? 3_600 : 30;
/** Growth allowed between the end of the warm-up and the end of the run (frames are ~0.35 MB each here: a leak of one per second would pass it in a minute). */
const RSS_BOUND_MB = 20;

/**
 * Local capture runs for hours: frames go from ffmpeg to the video track as they come
 * and are never queued, so memory stays flat. A camera read here streams to the local
 * server; RSS is sampled once the encoder has ramped up, and compared at the end.
 */
describe(`reliability: local capture for ${SECONDS} s keeps memory flat`, function () {
  this.timeout((SECONDS + 60) * 1000);
  let server: RunningServer;

  before(async () => {
    server = await startLocalServer(['--rtsp-port', '0', '--no-pull']);
  });
  after(async () => {
    await server.stop();
  });

  it('frames in, results out, RSS flat (no backlog grows anywhere)', async () => {
    const url = (await server.cameras()).find((camera) => camera.name === 'door')!.rtsp_url!;
    const stream = new CapturedStream({ connection: server.connection(), workflow: { workspace: 'demo', workflowId: 'detect-colors' }, camera: { kind: 'url', url }, dataOutputs: ['count'] });
    let results = 0;
    stream.on('result', () => results++);
    stream.start();
    try {
      await eventually(() => results > 20, 30_000, 'results');
      // The encoder's bandwidth estimate ramps up over the first seconds.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const samples: number[] = [];
      const started = Date.now();
      const resultsAtStart = results;
      while (Date.now() - started < SECONDS * 1000) {
        samples.push(process.memoryUsage().rss);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
      // Medians of the first and last fifth: one GC pause does not decide it.
      const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
      const fifth = Math.max(1, Math.floor(samples.length / 5));
      const first = median(samples.slice(0, fifth));
      const last = median(samples.slice(-fifth));
      const frames = stream.frames;
      console.log(
        `      ${results - resultsAtStart} results in ${SECONDS} s; frames in ${frames.framesIn}, sent ${frames.framesSent}, dropped ${frames.framesDropped}; RSS ${mb(first)} -> ${mb(last)} MB (bound +${RSS_BOUND_MB} MB)`,
      );
      assert.ok(results - resultsAtStart > SECONDS * 5, 'results kept coming');
      assert.ok(last - first < RSS_BOUND_MB * 1024 * 1024, `RSS grew from ${mb(first)} to ${mb(last)} MB`);
    } finally {
      await stream.stop();
    }
  });
});
