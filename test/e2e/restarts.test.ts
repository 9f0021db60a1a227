import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareUserDir, startNodeRed, type RunningNodeRed } from '../../scripts/lib/node-red-process';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { installPackedPackage } from '../helpers/packed';

/**
 * Promises 5 and 6 of the reliability issue, in a real Node-RED running the packed
 * package, killed with SIGKILL (no chance to save anything on the way out):
 * - a video job killed while it polls resumes after the restart and its results are
 *   delivered exactly once, without submitting the job again;
 * - Vision Events accepted while the API was down (the node passed their messages on)
 *   all arrive after the restart, each exactly once.
 * What the flow delivers is appended to files by Node-RED's own file node, so it is
 * seen from outside the killed process.
 */
describe('end to end: Node-RED killed with SIGKILL mid-work, then restarted', function () {
  this.timeout(240_000);
  const EVENTS = 10;
  let server: RunningServer;
  let nodeRed: RunningNodeRed | undefined;
  let userDir: string;
  let jobLog: string;
  let eventLog: string;

  before(async () => {
    server = await startLocalServer(['--cameras', '']);
    const work = mkdtempSync(join(tmpdir(), 'roboflow-kill-'));
    userDir = join(work, 'user-dir');
    jobLog = join(work, 'jobs.jsonl');
    eventLog = join(work, 'events.jsonl');
    prepareUserDir(userDir);
    installPackedPackage(userDir);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`local server: ${server.output.join('').slice(-3000)}\nNode-RED: ${nodeRed?.output.join('').slice(-3000)}`);
  });
  after(async () => {
    await nodeRed?.stop();
    await server?.stop();
  });

  const lines = (file: string): Array<Record<string, unknown>> =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>)
      : [];
  /** A change node that keeps what the test checks, then a file node appending it as one JSON line. */
  const logTo = (id: string, file: string, expression: string): Array<Record<string, unknown>> => [
    { id, z: 'tab', x: 500, y: 100, type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: expression, tot: 'jsonata' }], wires: [[`${id}-file`]] },
    { id: `${id}-file`, z: 'tab', x: 700, y: 100, type: 'file', filename: file, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]] },
  ];
  const inject = async (id: string): Promise<void> => {
    const response = await nodeRed!.request(`/inject/${id}`, { method: 'POST' });
    assert.equal(response.status, 200, `inject ${id}: ${response.status} ${await response.text()}`);
  };
  async function kill9(): Promise<void> {
    const child = nodeRed!.process;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  it('a polling video job and queued Vision Events survive kill -9: delivered once after the restart', async () => {
    const video = await sceneVideo('two-squares');
    // The job takes a while on the server; the Vision Events API is down.
    await server.faults({ jobDelayMs: 8_000, failNext: { vision_events: { status: 503, count: 100_000 }, vision_events_batch: { status: 503, count: 100_000 } } });
    nodeRed = await startNodeRed(userDir);
    await nodeRed.deploy([
      { id: 'tab', type: 'tab', label: 'kill -9' },
      { id: 'cfg', type: 'roboflow-config', name: 'local', serverUrl: server.url, apiUrl: server.url, region: 'us', plan: 'webrtc-gpu-small', version: 1, credentials: { apiKey: API_KEY } },
      {
        id: 'go-job',
        z: 'tab',
        x: 100,
        y: 100,
        type: 'inject',
        props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
        topic: 'before-kill',
        payload: video,
        payloadType: 'str',
        repeat: '',
        once: false,
        wires: [['job']],
      },
      {
        id: 'job',
        z: 'tab',
        x: 300,
        y: 100,
        type: 'roboflow-video-job',
        roboflow: 'cfg',
        target: 'workflow',
        workspace: 'demo',
        workspaceType: 'str',
        workflow: 'detect-colors',
        workflowType: 'str',
        model: '',
        fps: 5,
        pollInterval: 0.2,
        version: 1,
        wires: [['job-log']],
      },
      ...logTo('job-log', jobLog, '{"jobId": jobId, "topic": topic, "frames": $count(payload)}'),
      { id: 'go-event', z: 'tab', x: 100, y: 200, type: 'inject', props: [{ p: 'payload' }], payload: '{"at": $millis()}', payloadType: 'jsonata', repeat: '', once: false, wires: [['event']] },
      {
        id: 'event',
        z: 'tab',
        x: 300,
        y: 200,
        type: 'roboflow-vision-event',
        roboflow: 'cfg',
        useCase: 'demo',
        useCaseType: 'str',
        createUseCase: false,
        eventType: 'custom',
        deviceId: 'kill9',
        streamId: '',
        cooldown: 0,
        version: 1,
        wires: [['event-log']],
      },
      ...logTo('event-log', eventLog, '{"eventId": eventId}'),
    ]);

    await inject('go-job');
    const jobStore = join(userDir, 'roboflow', 'video-jobs', 'job', 'jobs.json');
    await eventually(() => existsSync(jobStore), 20_000, 'the submitted job kept on disk');
    await eventually(async () => (await server.requestCount('videoinfer_status')) >= 2, 10_000, 'the job being polled');
    for (let i = 0; i < EVENTS; i++) await inject('go-event');
    // An event's message goes on once the event is on disk; those are the events promised.
    // Kill the moment the last one is out: nothing gets a chance to be saved later.
    await eventually(() => lines(eventLog).length === EVENTS, 10_000, 'every event accepted by the node');

    await kill9();
    const outputBefore = nodeRed.output.join('');
    const [kept] = JSON.parse(readFileSync(jobStore, 'utf8')) as Array<{ handle: { jobId: string } }>;
    assert.equal(lines(jobLog).length, 0, 'no results before the kill');
    assert.equal((await server.json<{ events: unknown[] }>('/local/vision-events')).events.length, 0, 'no event delivered before the kill');

    await server.resetFaults();
    nodeRed = await startNodeRed(userDir);
    await eventually(() => lines(jobLog).length === 1, 60_000, 'the job results after the restart');
    const accepted = new Set(lines(eventLog).map((line) => line.eventId as string));
    const delivered = async (): Promise<Array<{ eventId: string; deviceId?: string }>> =>
      (await server.json<{ events: Array<{ eventId: string; deviceId?: string }> }>('/local/vision-events')).events.filter((event) => event.deviceId === 'kill9');
    await eventually(async () => (await delivered()).length >= EVENTS, 90_000, 'every queued event delivered after the restart');

    // Settle, then count again: nothing came twice.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const [result, ...again] = lines(jobLog);
    assert.deepEqual(again, [], 'the job results were delivered once');
    assert.deepEqual(result, { jobId: kept.handle.jobId, topic: 'before-kill', frames: 10 });
    assert.equal(await server.requestCount('videoinfer_submit'), 1, 'the job was resumed, not submitted again');
    const events = await delivered();
    assert.equal(events.length, EVENTS, 'each event once');
    assert.deepEqual(new Set(events.map((event) => event.eventId)), accepted, 'the very events the node accepted');
    assert.equal(lines(eventLog).length, EVENTS, 'no message was sent twice by the node');
    assert.doesNotMatch(outputBefore + nodeRed.output.join('') + server.output.join(''), new RegExp(API_KEY), 'the key is never printed');
  });
});
