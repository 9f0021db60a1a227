import { strict as assert } from 'node:assert';
import { ResilientStream, RoboflowError, StreamSession, type StreamOptions, type StreamResult } from '../../lib';
import { expectedBoxes, getScene } from '../../server/media/scenes';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  class: string;
  confidence: number;
}

const boxes = (result: StreamResult): Box[] => (result.data?.predictions as { predictions?: Box[] } | undefined)?.predictions ?? [];
const asRows = (list: Array<{ class?: string; color?: string; x: number; y: number; width: number; height: number }>): Array<Array<string | number>> =>
  list.map((box) => [box.class ?? box.color ?? '', box.x, box.y, box.width, box.height]).sort((a, b) => String(a).localeCompare(String(b)));

/** Runs a file session to its end; returns its results and errors. */
async function runToEnd(session: StreamSession): Promise<{ results: StreamResult[]; errors: RoboflowError[]; reason: string }> {
  const results: StreamResult[] = [];
  const errors: RoboflowError[] = [];
  session.on('result', (result) => results.push(result));
  session.on('error', (error) => errors.push(error));
  const closed = session.next('closed', 40_000);
  await session.start();
  const [{ reason }] = await closed;
  return { results, errors, reason };
}

describe('streaming a trained model by id (local server, real WebRTC)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let opened: Array<{ stop(): Promise<void> }> = [];
  const session = (extra: Partial<StreamOptions> & Pick<StreamOptions, 'workflow'>): StreamSession => {
    const created = new StreamSession({ connection: server.connection(), source: { kind: 'frames' }, ...extra });
    opened.push(created);
    return created;
  };

  before(async () => {
    server = await startLocalServer(['--cameras', '']);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    assert.doesNotMatch(server.output.join(''), new RegExp(API_KEY), 'the server never prints the API key');
  });
  beforeEach(async () => {
    await server.resetFaults();
    await server.json('/local/requests', { method: 'DELETE' });
  });
  afterEach(async () => {
    await Promise.all(opened.map((item) => item.stop()));
    opened = [];
    await eventually(async () => (await server.sessions()).active.length === 0, 5_000, 'no active session');
  });

  it('the local server answers the model look-up for its built-in models (Bearer key), 404 for others', async () => {
    const stat = await server.json<{ modelMetadata: { taskType: string } }>('/models/v1/external/stat?modelId=colors/1', { headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(stat.modelMetadata.taskType, 'object-detection');
    const unknown = await fetch(`${server.url}/models/v1/external/stat?modelId=yolov8n-640`, { headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const anonymous = await fetch(`${server.url}/models/v1/external/stat?modelId=colors/1`);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  });

  it('a model id streams like a workflow: every frame of a file with exact detections under `predictions`', async () => {
    const scene = getScene('two-squares');
    const { results, errors, reason } = await runToEnd(session({ workflow: { model: 'colors/1' }, source: { kind: 'file', path: await sceneVideo('two-squares') } }));
    assert.deepEqual(errors, []);
    assert.equal(reason, 'complete');
    assert.deepEqual(
      results.map((result) => result.frameId),
      Array.from({ length: scene.frames }, (_, index) => index + 1),
    );
    for (const result of results) {
      assert.deepEqual(Object.keys(result.data ?? {}), ['predictions'], 'the image output is an image: not a data output');
      assert.deepEqual(asRows(boxes(result)), asRows(expectedBoxes(scene, result.frameId - 1)), `frame ${result.frameId}`);
    }
  });

  it('the confidence and class options filter as the model block does', async () => {
    const { results } = await runToEnd(session({ workflow: { model: 'detect-colors/1', classes: ['red'], confidence: 0.5 }, source: { kind: 'file', path: await sceneVideo('crossing') } }));
    assert.ok(results.length > 0);
    assert.ok(
      results.every((result) => boxes(result).length === 0),
      'yellow circles only: nothing is red',
    );
    const red = await runToEnd(session({ workflow: { model: 'colors/1', classes: ['red'] }, source: { kind: 'file', path: await sceneVideo('two-squares') } }));
    assert.ok(red.results.every((result) => boxes(result).length === 1 && boxes(result)[0].class === 'red'));
    // Circles fill about 79% of their box (confidence 0.885): a higher threshold drops them.
    const strict = await runToEnd(session({ workflow: { model: 'colors/1', confidence: 0.95 }, source: { kind: 'file', path: await sceneVideo('crossing') } }));
    assert.ok(strict.results.every((result) => boxes(result).length === 0));
  });

  it('looks the task type up once per connection', async () => {
    const connection = server.connection();
    for (let run = 0; run < 2; run++) {
      const created = new StreamSession({ connection, workflow: { model: 'colors/1' }, source: { kind: 'file', path: await sceneVideo('two-squares') } });
      opened.push(created);
      await runToEnd(created);
    }
    assert.equal(await server.requestCount('model_stat'), 1);
    assert.equal(await server.requestCount('initialise_webrtc_worker'), 2);
  });

  it('a model id the service does not know: one clear error, and no stream is ever started', async () => {
    const stream = new ResilientStream({ connection: server.connection(), workflow: { model: 'no-such-project/7' }, source: { kind: 'frames' } });
    opened.push(stream);
    const failed = stream.next('error', 20_000);
    stream.start();
    const [error] = await failed;
    assert.equal(error.code, 'not-found');
    assert.match(error.message, /^Model no-such-project\/7 not found \(404\): check the model id \(project\/version\) and that this API key's workspace can use the model/);
    await eventually(() => stream.state === 'failed', 5_000, 'the stream gives up (a retry cannot fix it)');
    assert.equal(await server.requestCount('initialise_webrtc_worker'), 0);
    assert.equal(await server.requestCount('model_stat'), 1, 'not retried');
  });

  it("a known task type skips the look-up (a self-hosted server without Roboflow's API)", async () => {
    const { results } = await runToEnd(session({ workflow: { model: 'colors/1', taskType: 'object-detection' }, source: { kind: 'file', path: await sceneVideo('two-squares') } }));
    assert.equal(results.length, getScene('two-squares').frames);
    assert.equal(await server.requestCount('model_stat'), 0);
  });
});
