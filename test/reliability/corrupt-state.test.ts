import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node } from 'node-red';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { ALL_NODES, collect, configNode, helper, onTab, loggedBy, loggedWarnings, useUserDir, type FlowNode } from '../helpers/node-red-helper';

/** What a bad state file can hold: hand-edited, cut short by a full disk, written by another version. */
const BAD_CONTENTS: Array<[string, string]> = [
  ['a list of empty objects', '[{}]'],
  ['an empty object', '{}'],
  ['an object with entries', '{"entries":[]}'],
  ['truncated JSON', '[{"handle":{"generation":"workflow","jobId":"j1"'],
  ['wrong types', '[{"handle":{"generation":"workflow","jobId":7,"apiUrl":"http://x","submittedAt":"now"},"msg":{}}]'],
  ['a list of nulls', '[null]'],
  ['plain text', '"hello"'],
];

/**
 * Issue 14, item 4: every file read back from <userDir>/roboflow/ is validated. A bad one
 * is moved aside (`*.corrupt-<time>`) with one warning and the node starts empty: no
 * uncaught exception, so Node-RED (and every other flow) keeps running.
 */
describe('reliability: corrupt state in the user directory never stops Node-RED', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let userDir: string;
  const credentials = { cfg: { apiKey: API_KEY } };
  const crashes: unknown[] = [];
  const onCrash = (error: unknown): number => crashes.push(error);

  before(async () => {
    userDir = useUserDir();
    server = await startLocalServer(['--cameras', '', '--use-cases', 'demo']);
    process.on('unhandledRejection', onCrash);
    process.on('uncaughtException', onCrash);
  });
  after(async () => {
    process.off('unhandledRejection', onCrash);
    process.off('uncaughtException', onCrash);
    await server.stop();
  });
  afterEach(() => helper.unload());

  const videoJobFlow = (id: string): FlowNode[] =>
    onTab([
      configNode(server.url),
      {
        id,
        type: 'roboflow-video-job',
        name: '',
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
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ]);
  const eventFlow = (id: string): FlowNode[] =>
    onTab([
      configNode(server.url),
      {
        id,
        type: 'roboflow-vision-event',
        name: '',
        roboflow: 'cfg',
        useCase: 'demo',
        useCaseType: 'str',
        createUseCase: false,
        eventType: 'custom',
        deviceId: id,
        streamId: '',
        cooldown: 0,
        version: 1,
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ]);

  /** Writes `content` where the node keeps its state, loads the flow, and checks the file was set aside with one warning. */
  async function loadOver(kind: 'video-jobs' | 'vision-events', id: string, file: string, content: string, flow: FlowNode[]): Promise<Node> {
    const dir = join(userDir, 'roboflow', kind, id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file), content);
    crashes.length = 0;
    await helper.load(ALL_NODES, flow, credentials);
    const node = helper.getNode(id);
    const aside = await eventually(() => readdirSync(dir).find((name) => name.startsWith(`${file}.corrupt-`)), 5_000, 'the file moved aside');
    await eventually(() => loggedWarnings(id).length > 0, 5_000, 'the warning');
    const warnings = loggedWarnings(id);
    assert.equal(readFileSync(join(dir, aside), 'utf8'), content, 'kept as it was');
    assert.equal(existsSync(join(dir, file)), false);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], new RegExp(`${file.replace('.', '\\.')} is unusable \\(.+\\): moved it to .*${file.replace('.', '\\.')}\\.corrupt-[\\dTZ-]+ and started empty`));
    assert.deepEqual(loggedBy(id, 'error'), []);
    assert.deepEqual(crashes, [], 'no uncaught exception');
    return node;
  }

  BAD_CONTENTS.forEach(([name, content], index) => {
    it(`video job: jobs.json with ${name} is set aside; the node starts empty`, async () => {
      await loadOver('video-jobs', `job-${index}`, 'jobs.json', content, videoJobFlow(`job-${index}`));
    });

    it(`vision event: outbox.json with ${name} is set aside; the node starts empty`, async () => {
      await loadOver('vision-events', `event-${index}`, 'outbox.json', content, eventFlow(`event-${index}`));
    });
  });

  it('after setting a bad file aside, the nodes work: a video job runs, an event is delivered', async () => {
    const job = await loadOver('video-jobs', 'job-works', 'jobs.json', '[{}]', videoJobFlow('job-works'));
    const out = collect(helper.getNode('out'));
    job.receive({ payload: await sceneVideo('two-squares') });
    await eventually(() => out.length === 1, 45_000, 'the job results');
    assert.ok(Array.isArray(out[0].payload) && (out[0].payload as unknown[]).length > 0);
    await helper.unload();

    const event = await loadOver('vision-events', 'event-works', 'outbox.json', '{"entries":[]}', eventFlow('event-works'));
    event.receive({ payload: { n: 1 } });
    await eventually(async () => (await server.json<{ events: Array<{ deviceId?: string }> }>('/local/vision-events')).events.some((e) => e.deviceId === 'event-works'), 10_000, 'the event delivered');
  });
});
