import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { API_KEY, CLI, startLocalServer } from '../helpers/local-server';

describe('roboflow-local-server command line', () => {
  it('prints help', () => {
    const result = spawnSync(process.execPath, [...CLI, '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /--port N/);
    assert.match(result.stdout, /--api-key KEY/);
  });

  it('refuses bad options with a clear message and exit code 2', () => {
    const result = spawnSync(process.execPath, [...CLI, '--port', 'abc'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--port must be a port number/);
    const faults = spawnSync(process.execPath, [...CLI, '--faults', '{"dropAfterFrames": -1}'], { encoding: 'utf8' });
    assert.equal(faults.status, 2);
    assert.match(faults.stderr, /dropAfterFrames must be a number >= 0/);
  });

  it('listens on the port it prints, lists its workflows, and stops cleanly on SIGTERM', async () => {
    const server = await startLocalServer(['--cameras', '']);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const workflows = await server.json<Array<{ id: string; description: string; outputs: string[] }>>('/local/workflows');
    assert.deepEqual(
      workflows.map((w) => w.id),
      ['detect-colors', 'track-colors', 'motion', 'image-stats'],
    );
    for (const workflow of workflows) {
      assert.ok(workflow.description.length > 20);
      assert.ok(workflow.outputs.length > 0);
    }
    assert.equal(await server.stop(), 0);
  });

  it('takes faults from ROBOFLOW_LOCAL_FAULTS and changes them at run time', async () => {
    const server = await startLocalServer(['--cameras', ''], { ROBOFLOW_LOCAL_FAULTS: '{"streamLimit": 3, "gzip": true}' });
    try {
      const faults = await server.json<{ streamLimit: number; gzip: boolean; slowFrameMs: number }>('/local/faults');
      assert.equal(faults.streamLimit, 3);
      assert.equal(faults.gzip, true);
      await server.faults({ slowFrameMs: 25 });
      assert.equal((await server.json<{ slowFrameMs: number }>('/local/faults')).slowFrameMs, 25);
      const refused = await fetch(`${server.url}/local/faults`, { method: 'POST', body: '{"bogus": 1}' });
      assert.equal(refused.status, 400);
      assert.match(await refused.text(), /Unknown fault or setting \\"bogus\\"/);
      await server.resetFaults();
      assert.equal((await server.json<{ slowFrameMs: number; streamLimit: number }>('/local/faults')).streamLimit, 3);
    } finally {
      await server.stop();
    }
  });

  it('hosted defaults, and the options that change them: --no-gzip, --self-hosted, --session-timeout, --no-pull', async () => {
    interface Faults {
      gzip: boolean;
      selfHosted: boolean;
      sessionTimeoutSec: number;
      noPull: boolean;
      idleTimeoutMs: number;
    }
    const hosted = await startLocalServer(['--cameras', '']);
    try {
      const faults = await hosted.json<Faults>('/local/faults');
      assert.deepEqual([faults.gzip, faults.selfHosted, faults.sessionTimeoutSec, faults.noPull, faults.idleTimeoutMs], [true, false, 0, false, 60_000]);
    } finally {
      await hosted.stop();
    }
    const changed = await startLocalServer(['--cameras', '', '--no-gzip', '--self-hosted', '--session-timeout', '2', '--no-pull']);
    try {
      const faults = await changed.json<Faults>('/local/faults');
      assert.deepEqual([faults.gzip, faults.selfHosted, faults.sessionTimeoutSec, faults.noPull], [false, true, 2, true]);
    } finally {
      await changed.stop();
    }
    const bad = spawnSync(process.execPath, [...CLI, '--session-timeout', 'soon'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--session-timeout must be a number of seconds > 0/);
    const both = spawnSync(process.execPath, [...CLI, '--gzip', '--no-gzip'], { encoding: 'utf8' });
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--gzip and --no-gzip contradict each other/);
  });

  it('Batch Processing and the stream API: on and off as a hosted workspace has them, switched by --no-batch-processing and --stream-api', async () => {
    const jobUrl = (server: { url: string }): string => `${server.url}/batch-processing/v1/external/ws/jobs/job-1?api_key=${API_KEY}`;
    const hosted = await startLocalServer(['--cameras', '']);
    try {
      assert.equal(await fetch(jobUrl(hosted)).then((r) => r.status), 404, 'Batch Processing answers (an unknown job)');
      const pipelines = await fetch(`${hosted.url}/inference_pipelines/list`);
      assert.equal(pipelines.status, 404, 'the hosted service has no stream API');
      assert.deepEqual(await pipelines.json(), { detail: 'Not Found' });
    } finally {
      await hosted.stop();
    }
    const changed = await startLocalServer(['--cameras', '', '--no-batch-processing', '--stream-api']);
    try {
      const gated = await fetch(jobUrl(changed));
      assert.equal(gated.status, 402);
      assert.match(((await gated.json()) as { message: string }).message, /^Batch processing is not enabled for this workspace\. Upgrade your plan/);
      assert.deepEqual(((await (await fetch(`${changed.url}/inference_pipelines/list`)).json()) as { pipelines: string[] }).pipelines, []);
    } finally {
      await changed.stop();
    }
  });

  it('rejects a wrong key the way Roboflow does', async () => {
    const server = await startLocalServer(['--cameras', '']);
    try {
      const wrong = await fetch(`${server.url}/webrtc_turn_config?api_key=wrong`);
      assert.equal(wrong.status, 401);
      assert.match(((await wrong.json()) as { message: string }).message, /Unauthorized access to roboflow API/);
      const right = await fetch(`${server.url}/webrtc_turn_config?api_key=${API_KEY}`);
      assert.equal(right.status, 200);
      // An object, as Roboflow's API answers (docs/protocol.md §2.3).
      assert.equal(((await right.json()) as { iceServers: Array<{ urls: string[] }> }).iceServers[0].urls[0].startsWith('turn:'), true);
    } finally {
      await server.stop();
    }
  });
});
