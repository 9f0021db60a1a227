import { strict as assert } from 'node:assert';
import { StreamMetrics } from '../../lib';

describe('stream metrics', () => {
  let now = 0;
  const clock = (): number => now;

  it('frames from the flow: rates over the window, the delay from frame to result, frames replaced before sending', () => {
    now = 10_000;
    const metrics = new StreamMetrics(clock);
    metrics.sessionStarted(false);
    for (let i = 1; i <= 100; i++) {
      now += 100;
      metrics.frameSent(true);
      now += 40;
      metrics.result(i);
      now -= 40;
    }
    now += 40; // The last result has arrived.
    metrics.frameSent(false);
    const stats = metrics.snapshot();
    assert.equal(stats.fpsIn, 10);
    assert.equal(stats.fpsOut, 10);
    assert.deepEqual(stats.latencyMs, { p50: 40, max: 40 });
    assert.equal(stats.results, 100);
    assert.equal(stats.dropped, 1, 'the replaced frame');
  });

  it('cameras and files: frames in from the frame ids, skipped ids counted as dropped, a reconnect starts the ids again', () => {
    now = 0;
    const metrics = new StreamMetrics(clock);
    metrics.sessionStarted(false);
    // The server takes 30 fps and analyses every third frame.
    for (let id = 1; id <= 90; id += 3) {
      now = Math.round((id - 1) * (1000 / 30));
      metrics.result(id);
    }
    let stats = metrics.snapshot();
    assert.ok(Math.abs(stats.fpsIn - 30) < 1, `frames in: ${stats.fpsIn}`);
    assert.ok(Math.abs(stats.fpsOut - 10) < 0.5, `results per second (a third of 30 fps), over the stream's 3 s so far: ${stats.fpsOut}`);
    assert.equal(stats.dropped, 29 * 2);
    assert.equal(stats.latencyMs, null, 'no frame of ours to time');
    metrics.sessionStarted(true);
    now += 100;
    metrics.result(1);
    now += 100;
    metrics.result(2);
    stats = metrics.snapshot();
    assert.equal(stats.reconnects, 1);
    assert.equal(stats.dropped, 58, 'frame ids starting again are not drops');
  });

  it('rates fall to zero when nothing comes', () => {
    now = 0;
    const metrics = new StreamMetrics(clock);
    metrics.result(1);
    now = 60_000;
    const stats = metrics.snapshot();
    assert.deepEqual([stats.fpsIn, stats.fpsOut, stats.results], [0, 0, 1]);
  });
});
