import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { NodeOperationError, type ICredentialTestFunctions, type INodeExecutionData } from 'n8n-workflow';
import { RoboflowApi } from '../../credentials/RoboflowApi.credentials.js';
import { roboflowApiTest } from '../../nodes/n8n/shared/credential-test';
import { RoboflowStreamTrigger } from '../../nodes/n8n/RoboflowStreamTrigger/RoboflowStreamTrigger.node.js';
import { RoboflowVideoJob } from '../../nodes/n8n/RoboflowVideoJob/RoboflowVideoJob.node.js';
import { RoboflowVisionEvent } from '../../nodes/n8n/RoboflowVisionEvent/RoboflowVisionEvent.node.js';
import type { RoboflowApiCredential } from '../../nodes/n8n/shared/connection';
import { getScene } from '../../server/media/scenes';
import { API_KEY, ROOT, eventually, peakConcurrency, startLocalServer, type RunningServer } from '../helpers/local-server';
import { MEDIA_DIR, sceneImage, sceneVideo } from '../helpers/media';
import { runStreamTrigger } from '../../nodes/n8n/RoboflowStreamTrigger/trigger';
import { binaryItem, executeContext, scanExecutions, triggerContext } from '../helpers/n8n-context';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('wrong-key-123');

interface RecordingProxy {
  url: string;
  /** Each request's path and JSON body (undefined without one), in order. */
  bodies: Array<{ path: string; body: unknown }>;
  close(): Promise<void>;
}

/** An HTTP forwarder in front of the local server that keeps what each request sent: what the service receives. */
async function recordingProxy(target: string): Promise<RecordingProxy> {
  const bodies: RecordingProxy['bodies'] = [];
  const proxy = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', target);
      let body: unknown;
      try {
        body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
      } catch {
        body = raw.toString('utf8');
      }
      bodies.push({ path: url.pathname, body });
      const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      upstream.end(raw);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (taken, then freed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
scanExecutions(RoboflowVideoJob);
scanExecutions(RoboflowVisionEvent);

describe('n8n nodes against the local server', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let credential: RoboflowApiCredential;

  const fileAccess = process.env.N8N_RESTRICT_FILE_ACCESS_TO;
  before(async () => {
    // As n8n 2.x does: nodes read files only from the allowed folders (here, the test media).
    process.env.N8N_RESTRICT_FILE_ACCESS_TO = MEDIA_DIR;
    server = await startLocalServer(['--rtsp-port', '0', '--use-cases', 'demo']);
    credential = { apiKey: API_KEY, region: 'us', plan: 'webrtc-gpu-small', serverUrl: server.url, apiUrl: server.url };
  });
  after(async () => {
    if (fileAccess === undefined) delete process.env.N8N_RESTRICT_FILE_ACCESS_TO;
    else process.env.N8N_RESTRICT_FILE_ACCESS_TO = fileAccess;
    await server.stop();
  });
  beforeEach(() => server.resetFaults());
  afterEach(async () => {
    await eventually(async () => (await server.sessions()).active.length === 0, 5_000, 'no stream left running');
  });

  describe('credential roboflowApi', () => {
    const credentialType = new RoboflowApi();

    /** What n8n does for "Test": the function the nodes name in `testedBy`, with the credential's data. */
    const runCredentialTest = (values: RoboflowApiCredential) => roboflowApiTest.call({} as ICredentialTestFunctions, { id: 'c1', name: 'Roboflow', type: 'roboflowApi', data: { ...values } });

    it('has an API key (password), region (or a custom one), plan, server URL and API URL', () => {
      assert.equal(credentialType.name, 'roboflowApi');
      const fields = Object.fromEntries(credentialType.properties.map((property) => [property.name, property]));
      assert.deepEqual(Object.keys(fields), ['apiKey', 'region', 'customRegion', 'plan', 'serverUrl', 'apiUrl']);
      assert.equal(fields.apiKey.typeOptions?.password, true);
      assert.deepEqual(
        (fields.region.options as Array<{ value: string }>).map((option) => option.value),
        ['us', 'eu', 'ap', 'other'],
      );
      assert.equal(fields.region.default, 'us', 'a credential saved before keeps its region');
      // The custom region shows only with "Other…".
      assert.equal(fields.customRegion.type, 'string');
      assert.deepEqual(fields.customRegion.displayOptions, { show: { region: ['other'] } });
      assert.equal(fields.serverUrl.default, 'https://serverless.roboflow.com');
    });

    describe('the region a stream asks for (requested_region, as the server receives it)', () => {
      let proxy: RecordingProxy;
      before(async () => {
        proxy = await recordingProxy(server.url);
      });
      after(() => proxy.close());

      /** Starts a stream ("Test step", one frame) with the credential; returns the requested_region the server got. */
      const requestedRegion = async (values: RoboflowApiCredential): Promise<unknown> => {
        proxy.bodies.length = 0;
        const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
        const { context, emitted } = triggerContext({
          mode: 'manual',
          credential: { ...values, serverUrl: proxy.url },
          parameters: {
            workflowMode: 'saved',
            workspace: 'demo',
            workflowId: 'detect-colors',
            source: 'rtsp',
            url: camera.rtsp_url,
            dataOutputs: 'count',
            emit: 'frames',
            options: { manualItems: 1 },
          },
        });
        const response = await new RoboflowStreamTrigger().trigger.call(context);
        await response.manualTriggerFunction!();
        await response.closeFunction!();
        assert.equal(emitted.length, 1, 'the stream ran');
        const starts = proxy.bodies.filter((request) => request.path === '/initialise_webrtc_worker');
        assert.equal(starts.length, 1, 'one stream started');
        return (starts[0].body as { requested_region?: unknown }).requested_region;
      };

      it('Region "Other…" sends the custom region as typed (eu-west)', async () => {
        assert.equal(await requestedRegion({ ...credential, region: 'other', customRegion: ' eu-west ' }), 'eu-west');
      });

      it('a credential saved before the option is unchanged: its region is sent (eu), a custom region left over is not', async () => {
        assert.equal(await requestedRegion({ ...credential, region: 'eu', customRegion: 'eu-west' }), 'eu');
      });

      it('"Other…" with no custom region: the credential test says what to type', async () => {
        const empty = await runCredentialTest({ ...credential, region: 'other', customRegion: '' });
        assert.equal(empty.status, 'Error');
        assert.equal(empty.message, 'Region is "Other…": type the region name in Custom Region (e.g. eu-west)');
        const custom = await runCredentialTest({ ...credential, region: 'other', customRegion: 'eu-west' });
        assert.equal(custom.status, 'OK', custom.message);
      });
    });

    it('every node that uses it names the function test, which n8n runs (the credential has no request test to win over it)', () => {
      assert.equal('test' in credentialType, false);
      for (const node of [new RoboflowStreamTrigger(), new RoboflowVideoJob(), new RoboflowVisionEvent()]) {
        const uses = node.description.credentials!.find((entry) => entry.name === 'roboflowApi')!;
        assert.equal(uses.testedBy, 'roboflowApiTest');
        assert.equal(node.methods.credentialTest.roboflowApiTest, roboflowApiTest);
      }
    });

    it('checks the key at the API URL and the streaming server at the Server URL, and names the one that failed', async () => {
      const dead = `http://127.0.0.1:${await closedPort()}`;
      const good = await runCredentialTest(credential);
      assert.equal(good.status, 'OK', good.message);
      assert.match(good.message, /API key accepted by .*; streaming server .* reachable/);
      const deadServer = await runCredentialTest({ ...credential, serverUrl: dead });
      assert.equal(deadServer.status, 'Error');
      assert.match(deadServer.message, /^Server URL failed: API key accepted by .*; Cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
      const deadApi = await runCredentialTest({ ...credential, apiUrl: dead });
      assert.equal(deadApi.status, 'Error');
      assert.match(deadApi.message, /^API URL failed: Cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\).*; streaming server .* reachable/);
      const wrongKey = await runCredentialTest({ ...credential, apiKey: WRONG_KEY });
      assert.equal(wrongKey.status, 'Error');
      assert.match(wrongKey.message, /^API URL failed: API key rejected \(401\)/);
    });
  });

  describe('Roboflow Stream Trigger', () => {
    const node = new RoboflowStreamTrigger();
    const saved = { workflowMode: 'saved', workspace: 'demo', workflowId: 'detect-colors' };

    it('"Test step" returns the first analysed frames, then closes the stream', async () => {
      const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
      const { context, emitted } = triggerContext({
        mode: 'manual',
        credential,
        parameters: { ...saved, source: 'rtsp', url: camera.rtsp_url, dataOutputs: 'count', emit: 'frames', options: { manualItems: 3 } },
      });
      const response = await node.trigger.call(context);
      await response.manualTriggerFunction!();
      assert.equal(emitted.length, 1, 'a manual run emits once');
      const items = emitted[0][0];
      assert.equal(items.length, 3);
      for (const item of items) {
        assert.equal(item.json.count, 2);
        assert.equal(item.json.workflowId, 'detect-colors');
        assert.equal(typeof (item.json.frame as { frame_id: number }).frame_id, 'number');
      }
      await response.closeFunction!();
    });

    it('while active: one item per frame; only frames with detections when asked; deactivation ends the session', async () => {
      const scene = getScene('flicker');
      const path = await sceneVideo('flicker');
      const run = async (emit: string): Promise<INodeExecutionData[]> => {
        const { context, emitted } = triggerContext({ mode: 'trigger', credential, parameters: { ...saved, source: 'file', filePath: path, dataOutputs: 'predictions', emit, options: {} } });
        const response = await node.trigger.call(context);
        await eventually(() => emitted.some((data) => data[0][0].json.complete === true), 20_000, 'the completion item');
        await response.closeFunction!();
        return emitted.map((data) => data[0][0]);
      };
      const all = await run('frames');
      assert.equal(all.length, scene.frames + 1);
      assert.deepEqual(all[all.length - 1].json, { complete: true, frames: scene.frames, terminationReason: null });
      const withDetections = await run('detections');
      // The square is missing in frames 10 and 11.
      assert.equal(withDetections.length, scene.frames - 2 + 1);
    });

    it('object events: one execution per arriving person, zone and line events at the times of the video', async () => {
      // The door scene (server/media/scenes.ts): the person's feet cross x = 300 at 2.3 s, enter the door zone at 3.5 s, leave it at 7.3 s.
      const zones = {
        zones: [
          {
            name: 'door',
            polygon: [
              [430, 200],
              [640, 200],
              [640, 360],
              [430, 360],
            ],
          },
        ],
        lines: [{ name: 'threshold', from: [300, 150], to: [300, 360] }],
      };
      const parameters = {
        ...saved,
        source: 'file',
        filePath: await sceneVideo('door'),
        dataOutputs: 'predictions',
        emit: 'objects',
        detectionsOutput: 'predictions',
        objectEvents: ['enter', 'zone-enter', 'line-cross', 'leave'],
        zonesAndLines: JSON.stringify(zones),
        objectClasses: 'person',
        leaveAfterSeconds: 1,
        options: { parameters: JSON.stringify({ class_names: { red: 'person', green: 'door' } }) },
      };
      const { context, emitted } = triggerContext({ mode: 'trigger', credential, parameters });
      const response = await node.trigger.call(context);
      await eventually(() => emitted.some((data) => data[0][0].json.complete === true), 30_000, 'the completion item');
      await response.closeFunction!();
      assert.ok(
        emitted.every((data) => data[0].length === 1),
        'one item per execution',
      );
      const events = emitted.map((data) => data[0][0].json).filter((json) => json.complete !== true);
      assert.deepEqual(
        events.map((json) => `${String(json.event)} ${String(json.time)}${json.zone ? ` ${String(json.zone)}` : ''}${json.direction ? ` ${String(json.direction)}` : ''}`),
        ['enter 0', 'line-cross 2.3 left-to-right', 'zone-enter 3.5 door', 'line-cross 7.9 right-to-left', 'leave 8.9'],
      );
      assert.deepEqual((events[0].object as { class: string; id: string }).class, 'person');
      assert.ok(
        events.every((json) => (json.object as { id: string }).id === (events[0].object as { id: string }).id),
        'one object, one id',
      );
    });

    it('object events in a manual run: the first events, then the stream closes', async () => {
      const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
      const { context, emitted } = triggerContext({
        mode: 'manual',
        credential,
        parameters: {
          ...saved,
          source: 'rtsp',
          url: camera.rtsp_url,
          dataOutputs: 'predictions',
          emit: 'objects',
          objectEvents: ['enter'],
          detectionsOutput: 'predictions',
          zonesAndLines: '',
          objectClasses: '',
          leaveAfterSeconds: 1,
          options: { manualItems: 2 },
        },
      });
      const response = await node.trigger.call(context);
      await response.manualTriggerFunction!();
      assert.equal(emitted.length, 1);
      assert.deepEqual(emitted[0][0].map((item) => [item.json.event, (item.json.object as { class: string }).class].join(' ')).sort(), ['enter blue', 'enter red']);
      await response.closeFunction!();
    });

    it('throttles to one item per interval', async () => {
      const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
      const { context, emitted } = triggerContext({
        mode: 'trigger',
        credential,
        parameters: { ...saved, source: 'rtsp', url: camera.rtsp_url, dataOutputs: 'count', emit: 'frames', options: { throttleSeconds: 1 } },
      });
      const response = await node.trigger.call(context);
      await eventually(() => emitted.length >= 1, 15_000, 'a first item');
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await response.closeFunction!();
      assert.ok(emitted.length >= 2 && emitted.length <= 4, `${emitted.length} items in about 2.5 s`);
    });

    it('a start refused for good fails the activation with our message; n8n activating it again and again costs one server call per backoff step', async () => {
      const door = (await server.cameras()).find((c) => c.name === 'door')!.rtsp_url!;
      const cases = [
        { workflowId: 'wf-wrong-key', key: WRONG_KEY, id: 'detect-colors', message: /^API key rejected \(401\): check the API key/ },
        { workflowId: 'wf-typo', key: API_KEY, id: 'detect-colours', message: /^Not found \(404\): check the workspace name and workflow id \(Requested Roboflow resource not found/ },
      ];
      for (const wrong of cases) {
        const before = await server.requestCount('initialise_webrtc_worker');
        const activate = () => {
          const { context, emitted, errors } = triggerContext({
            mode: 'trigger',
            workflowId: wrong.workflowId,
            credential: { ...credential, apiKey: wrong.key },
            parameters: { ...saved, workflowId: wrong.id, source: 'rtsp', url: door, dataOutputs: '', emit: 'frames', options: {} },
          });
          return node.trigger.call(context).finally(() => assert.equal(emitted.length + errors.length, 0));
        };
        await assert.rejects(activate(), (error: Error) => {
          assert.ok(error instanceof NodeOperationError);
          assert.match(error.message, wrong.message);
          // The 404 message quotes the server's text: it is not repeated under it (the 401's is not quoted, so it is).
          if (wrong.key === API_KEY) assert.equal(error.description, undefined, 'the server text is not repeated under the message');
          return true;
        });
        // What n8n 2.41 does around a failing trigger: retries, re-registration, its reconciler.
        for (let attempt = 0; attempt < 20; attempt++) await assert.rejects(activate(), /not retried: the last start with these settings failed/);
        assert.equal((await server.requestCount('initialise_webrtc_worker')) - before, 1, `${wrong.workflowId}: one start request`);
      }
    });

    it('a failure after activation (the key revoked) is reported once with emitError, and the stream ends', async () => {
      const door = (await server.cameras()).find((c) => c.name === 'door')!.rtsp_url!;
      const { context, errors } = triggerContext({
        mode: 'trigger',
        workflowId: 'wf-revoked',
        credential,
        parameters: { ...saved, source: 'rtsp', url: door, dataOutputs: '', emit: 'frames', options: {} },
      });
      const response = await node.trigger.call(context);
      await server.faults({ rejectKey: true, dropAfterFrames: 1 });
      await eventually(() => errors.length === 1, 20_000, 'emitError');
      assert.ok(errors[0] instanceof NodeOperationError);
      assert.match(errors[0].message, /^API key rejected \(401\)/);
      await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left');
      await response.closeFunction!();
      assert.equal(errors.length, 1);
    });

    it('"Test step" fails with the first error the engine sees, at once: a wrong server URL', async function () {
      this.timeout(10_000);
      const door = (await server.cameras()).find((c) => c.name === 'door')!.rtsp_url!;
      const { context, emitted } = triggerContext({
        mode: 'manual',
        credential: { ...credential, serverUrl: `http://127.0.0.1:${await closedPort()}` },
        parameters: { ...saved, source: 'rtsp', url: door, dataOutputs: '', emit: 'frames', options: {} },
      });
      const response = await node.trigger.call(context);
      await assert.rejects(response.manualTriggerFunction!(), (error: Error) => /^Cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\): check the server URL/.test(error.message));
      assert.equal(emitted.length, 0);
    });

    it('"Test step" fails with the first error the engine sees, at once: a camera the server cannot open', async function () {
      this.timeout(10_000);
      await server.faults({ sourceOpenTimeoutMs: 1_000 });
      const { context } = triggerContext({
        mode: 'manual',
        credential,
        parameters: { ...saved, source: 'rtsp', url: `rtsp://127.0.0.1:${await closedPort()}/none`, dataOutputs: '', emit: 'frames', options: {} },
      });
      const response = await node.trigger.call(context);
      await assert.rejects(response.manualTriggerFunction!(), /\(504\)|camera|could not open/i);
    });

    it('deactivation while the first session is still starting ends everything: no error, no session left, no closed-client error', async () => {
      // A "camera" that accepts the connection and never answers: the server's start hangs on it.
      const silent = createServer((socket) => socket.on('error', () => undefined)).listen(0, '127.0.0.1');
      await new Promise((resolve) => silent.once('listening', resolve));
      try {
        const port = (silent.address() as { port: number }).port;
        const { context, errors, logs } = triggerContext({
          mode: 'trigger',
          workflowId: 'wf-pending',
          credential,
          parameters: { ...saved, source: 'rtsp', url: `rtsp://127.0.0.1:${port}/stream`, dataOutputs: '', emit: 'frames', options: {} },
        });
        const response = await runStreamTrigger(context, { firstOutcomeMs: 300 });
        // n8n may remove a trigger twice (an error, then Unpublish): closing twice must not fail.
        await Promise.all([response.closeFunction!(), response.closeFunction!()]);
        await response.closeFunction!();
        assert.equal(errors.length, 0);
        assert.deepEqual(
          logs.filter((line) => /destroyed/i.test(line)),
          [],
        );
      } finally {
        silent.close();
      }
    });

    it("a live camera's session renews itself when its processing timeout runs out: items for 20 s, never two sessions, no completion", async function () {
      this.timeout(60_000);
      const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
      const earlier = await server.sessions();
      const known = new Set([...earlier.active, ...earlier.ended].map((session) => session.id));
      const started = earlier.started;
      const { context, emitted, errors } = triggerContext({
        mode: 'trigger',
        version: 2,
        workflowId: 'wf-renew',
        credential,
        parameters: { ...saved, source: 'rtsp', url: camera.rtsp_url, dataOutputs: 'count', emit: 'frames', throttleSeconds: 0, options: { processingTimeout: 2 } },
      });
      const response = await node.trigger.call(context);
      await eventually(async () => (await server.sessions()).started - started >= 2, 20_000, 'a second session');
      // 20 s across renewals: items keep coming, with no gap longer than a renewal takes.
      const arrivals: number[] = [];
      const counted = emitted.length;
      const watch = setInterval(() => {
        for (let i = arrivals.length; i < emitted.length - counted; i++) arrivals.push(Date.now());
      }, 100);
      const from = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      clearInterval(watch);
      await response.closeFunction!();
      assert.equal(errors.length, 0);
      const gaps = [arrivals[0] - from, ...arrivals.slice(1).map((at, i) => at - arrivals[i])];
      assert.ok(arrivals.length > 40 && Math.max(...gaps) < 5_000, `${arrivals.length} items in 20 s, longest gap ${Math.max(...gaps)} ms`);
      const now = await server.sessions();
      const ours = { ...now, active: now.active.filter((s) => !known.has(s.id)), ended: now.ended.filter((s) => !known.has(s.id)) };
      assert.ok(ours.ended.length >= 5, `sessions: ${ours.ended.length}`);
      assert.equal(peakConcurrency(ours), 1, 'never two sessions at once');
      assert.ok(
        emitted.every((data) => data[0][0].json.complete === undefined),
        'no completion item for a camera',
      );
    });

    it('a wrong key in a manual run fails the run with the message', async () => {
      const camera = (await server.cameras()).find((c) => c.name === 'door')!;
      const { context } = triggerContext({
        mode: 'manual',
        credential: { ...credential, apiKey: WRONG_KEY },
        parameters: { ...saved, source: 'rtsp', url: camera.rtsp_url, dataOutputs: '', emit: 'frames', options: {} },
      });
      const response = await node.trigger.call(context);
      await assert.rejects(response.manualTriggerFunction!(), /API key rejected \(401\)/);
      await response.closeFunction!();
    });

    it('bad settings fail at activation with what to fix', async () => {
      const bad = [
        [{ ...saved, source: 'rtsp', url: '', emit: 'frames', options: {} }, /Set the URL/],
        [{ workflowMode: 'saved', workspace: '', workflowId: 'x', source: 'rtsp', url: 'rtsp://x/y', emit: 'frames', options: {} }, /Set the workspace and the workflow ID/],
        [{ ...saved, source: 'rtsp', url: 'rtsp://x/y', emit: 'frames', options: { parameters: '{nope' } }, /Parameters is not valid JSON/],
      ] as const;
      for (const [parameters, message] of bad) {
        const { context } = triggerContext({ mode: 'trigger', credential, parameters: { ...parameters } });
        await assert.rejects(node.trigger.call(context), (error: Error) => error instanceof NodeOperationError && message.test(error.message));
      }
    });
  });

  describe('Roboflow Video Job', () => {
    const node = new RoboflowVideoJob();
    const workflowJob = { target: 'workflow', workspace: 'demo', workflowId: 'detect-colors', fps: 5, options: { pollSeconds: 1 } };

    it('Process Video: binary in, every analysed frame out (one item, or one item per frame)', async () => {
      const video = binaryItem(readFileSync(await sceneVideo('two-squares')), 'clip.mp4', 'video/mp4');
      const [one] = await node.execute.call(
        executeContext({ type: 'roboflowVideoJob', credential, items: [video], parameters: { operation: 'process', input: 'binary', binaryPropertyName: 'data', ...workflowJob } }),
      );
      assert.equal(one.length, 1);
      const frames = one[0].json.frames as Array<{ frameOffset: number; outputs: { count: number } }>;
      assert.equal(frames.length, 10);
      assert.ok(frames.every((frame) => frame.outputs.count === 2));
      const [perFrame] = await node.execute.call(
        executeContext({
          type: 'roboflowVideoJob',
          credential,
          items: [video],
          parameters: { operation: 'process', input: 'binary', binaryPropertyName: 'data', ...workflowJob, options: { pollSeconds: 1, itemPerFrame: true } },
        }),
      );
      assert.equal(perFrame.length, 10);
      assert.deepEqual(
        perFrame.map((item) => item.pairedItem),
        Array(10).fill({ item: 0 }),
      );
    });

    it('Submit Job, then Get Job Status and Get Job Results (for a Wait node in between)', async () => {
      const video = binaryItem(readFileSync(await sceneVideo('two-squares')), 'clip.mp4', 'video/mp4');
      const [submitted] = await node.execute.call(
        executeContext({ type: 'roboflowVideoJob', credential, items: [video], parameters: { operation: 'submit', input: 'binary', binaryPropertyName: 'data', ...workflowJob } }),
      );
      const jobId = submitted[0].json.jobId as string;
      assert.match(jobId, /^[0-9a-f-]{36}$/);
      assert.equal(submitted[0].json.generation, 'workflow');
      const lookup = (operation: string) => executeContext({ type: 'roboflowVideoJob', credential, parameters: { operation, jobId, generation: 'workflow', options: {} } });
      await eventually(async () => (await node.execute.call(lookup('getStatus')))[0][0].json.state === 'complete', 20_000, 'complete status');
      const [results] = await node.execute.call(lookup('getResults'));
      assert.equal((results[0].json.frames as unknown[]).length, 10);
    });

    it('a model job from a URL', async () => {
      const upload = await fetch(`${server.url}/video_upload_signed_url/?api_key=${API_KEY}&file_name=clip.mp4`, { method: 'POST' });
      const { signedUrl, fileUrl } = (await upload.json()) as { signedUrl: string; fileUrl: string };
      await fetch(signedUrl, { method: 'PUT', body: readFileSync(await sceneVideo('two-squares')) });
      const [out] = await node.execute.call(
        executeContext({
          type: 'roboflowVideoJob',
          credential,
          parameters: { operation: 'process', input: 'url', videoUrl: fileUrl, target: 'model', model: 'detect-colors/1', fps: 5, options: { pollSeconds: 1 } },
        }),
      );
      const frames = out[0].json.frames as Array<{ outputs: Record<string, unknown> }>;
      assert.ok('detect-colors' in frames[0].outputs);
    });

    it('errors are per item: Continue On Fail keeps the good items', async () => {
      const good = binaryItem(readFileSync(await sceneVideo('two-squares')), 'clip.mp4', 'video/mp4');
      const items = [{ json: {} }, good];
      const parameters = { operation: 'process', input: 'binary', binaryPropertyName: 'data', ...workflowJob };
      await assert.rejects(
        node.execute.call(executeContext({ type: 'roboflowVideoJob', credential, items, parameters })),
        (error: Error) => error instanceof NodeOperationError && error.message.includes("binary file 'data'"),
      );
      const [out] = await node.execute.call(executeContext({ type: 'roboflowVideoJob', credential, items, parameters, continueOnFail: true }));
      assert.match(String(out[0].json.error), /binary file 'data'/);
      assert.equal((out[1].json.frames as unknown[]).length, 10);
    });

    it('Local File: a video in an allowed folder is processed; a missing file or a folder n8n does not allow is an error that says why', async () => {
      const process = (filePath: string) => node.execute.call(executeContext({ type: 'roboflowVideoJob', credential, parameters: { operation: 'process', input: 'file', filePath, ...workflowJob } }));
      const [out] = await process(await sceneVideo('two-squares'));
      assert.equal((out[0].json.frames as unknown[]).length, 10);
      await assert.rejects(process(join(MEDIA_DIR, 'no-such-clip.mp4')), (error: Error) => error instanceof NodeOperationError && /Video file not found: .*no-such-clip\.mp4/.test(error.message));
      await assert.rejects(process(join(ROOT, 'package.json')), /n8n may not read .*package\.json: n8n 2\.x lets nodes read files only inside ~\/\.n8n-files .*N8N_RESTRICT_FILE_ACCESS_TO/);
    });

    it('a result lookup of an unknown job says so (404)', async () => {
      await assert.rejects(
        node.execute.call(executeContext({ type: 'roboflowVideoJob', credential, parameters: { operation: 'getResults', jobId: 'no-such-job', generation: 'workflow', options: {} } })),
        /Not found \(404\)/,
      );
    });
  });

  describe('Roboflow Vision Event', () => {
    const node = new RoboflowVisionEvent();
    const events = async (): Promise<Array<Record<string, unknown>>> => (await server.json<{ events: Array<Record<string, unknown>> }>('/local/vision-events')).events;

    it('one event per item from the item JSON, with an image and detections, in batches of 100', async () => {
      const image = await sceneImage('door', 45);
      const items = Array.from({ length: 150 }, (_, i) =>
        binaryItem(image, 'frame.jpg', 'image/jpeg', {
          severity: i % 2 ? 'high' : 'low',
          alertType: 'person',
          camera: 'porch',
          index: i,
          predictions: [{ class: 'person', x: 490, y: 235, width: 60, height: 150, confidence: 0.9 }],
        }),
      );
      const before = (await server.json<{ requests: number }>('/local/vision-events')).requests;
      const [out] = await node.execute.call(
        executeContext({
          type: 'roboflowVisionEvent',
          credential,
          items,
          parameters: {
            useCase: 'demo',
            createUseCase: false,
            eventType: 'safety_alert',
            fieldsFrom: 'item',
            options: { binaryPropertyName: 'data', detectionsField: 'predictions', deviceId: 'n8n-test' },
          },
        }),
      );
      assert.equal(out.length, 150);
      const requests = (await server.json<{ requests: number }>('/local/vision-events')).requests - before;
      assert.equal(requests, 2, 'two batch requests for 150 events');
      const stored = (await events()).filter((event) => event.deviceId === 'n8n-test');
      assert.equal(stored.length, 150);
      const first = stored.find((event) => event.eventId === out[0].json.eventId)!;
      assert.deepEqual(first.eventData, { severity: 'low', alertType: 'person' });
      assert.deepEqual(first.customMetadata, { camera: 'porch', index: 0 });
      assert.equal((first.images as Array<{ objectDetections: unknown[] }>)[0].objectDetections.length, 1);
    });

    it('fields defined on the node, and a bad item reported on its own with Continue On Fail', async () => {
      const items = [{ json: { n: 1 } }, { json: { n: 2 } }];
      const parameters = (index: number) => ({
        useCase: 'demo',
        eventType: 'quality_check',
        fieldsFrom: 'define',
        eventData: index === 0 ? '{"result": "pass"}' : '{"result": "maybe"}',
        metadata: { field: [{ key: 'line', value: 'A' }] },
        options: { deviceId: 'define-test' },
      });
      await assert.rejects(node.execute.call(executeContext({ type: 'roboflowVisionEvent', credential, items, parameters })), /Event rejected: .*result must be one of pass, fail/);
      const [out] = await node.execute.call(executeContext({ type: 'roboflowVisionEvent', credential, items, parameters, continueOnFail: true }));
      assert.match(String(out[0].json.eventId), /^[0-9a-f-]{36}$/);
      assert.match(String(out[1].json.error), /result must be one of pass, fail/);
      const stored = (await events()).filter((event) => event.deviceId === 'define-test');
      assert.ok(stored.some((event) => (event.customMetadata as Record<string, string>).line === 'A'));
    });

    it('the use case is looked up once per credential, not once per execution', async () => {
      const run = () =>
        node.execute.call(
          executeContext({
            type: 'roboflowVisionEvent',
            credential,
            items: [{ json: { value: 1 } }],
            parameters: { useCase: 'demo', createUseCase: false, eventType: 'custom', fieldsFrom: 'item', options: { deviceId: 'cache-test' } },
          }),
        );
      await run();
      const lookups = await server.requestCount('use_cases');
      const eventRequests = async () => (await server.requestCount('vision_events')) + (await server.requestCount('vision_events_batch'));
      const events = await eventRequests();
      await run();
      await run();
      assert.equal(await server.requestCount('use_cases'), lookups, 'no new look-up');
      assert.equal((await eventRequests()) - events, 2, 'one request per execution: the event');
    });

    it('an unknown use case and a wrong key fail clearly', async () => {
      await assert.rejects(
        node.execute.call(executeContext({ type: 'roboflowVisionEvent', credential, parameters: { useCase: 'nowhere', eventType: 'custom', fieldsFrom: 'item', options: {} } })),
        /use case "nowhere" does not exist/,
      );
      await assert.rejects(
        node.execute.call(
          executeContext({ type: 'roboflowVisionEvent', credential: { ...credential, apiKey: WRONG_KEY }, parameters: { useCase: 'demo', eventType: 'custom', fieldsFrom: 'item', options: {} } }),
        ),
        /API key rejected \(401\)/,
      );
    });
  });
});

describe('n8n Stream Trigger with a Camera Login credential', function () {
  this.timeout(60_000);
  // Every character that breaks a URL written by hand.
  const CAMERA_PASSWORD = secret(`p@ss:w/o"rd' %41 x`);
  let server: RunningServer;

  before(async () => {
    server = await startLocalServer(['--rtsp-port', '0', '--rtsp-auth', `cam user:${CAMERA_PASSWORD}`]);
  });
  after(() => server.stop());

  it('puts the user name and password into the camera URL at connect time only, encoded: the camera accepts them', async () => {
    const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
    assert.doesNotMatch(camera.rtsp_url!, /@/, 'the URL on the node has no login');
    const credential = { apiKey: API_KEY, region: 'us', plan: 'webrtc-gpu-small', serverUrl: server.url, apiUrl: server.url };
    const parameters = {
      workflowMode: 'saved',
      workspace: 'demo',
      workflowId: 'detect-colors',
      source: 'rtsp',
      url: camera.rtsp_url,
      cameraAuth: 'credential',
      dataOutputs: 'count',
      emit: 'frames',
      throttleSeconds: 0,
      options: { manualItems: 2 },
    };
    const { context, emitted, logs } = triggerContext({ mode: 'manual', version: 2, credential, cameraLogin: { username: 'cam user', password: CAMERA_PASSWORD }, parameters });
    const response = await new RoboflowStreamTrigger().trigger.call(context);
    await response.manualTriggerFunction!();
    assert.deepEqual(
      emitted[0][0].map((item) => item.json.count),
      [2, 2],
    );
    assert.ok(logs.length > 0);

    const wrong = triggerContext({ mode: 'manual', version: 2, credential, cameraLogin: { username: 'cam user', password: 'not-the-password' }, parameters });
    await assert.rejects((await new RoboflowStreamTrigger().trigger.call(wrong.context)).manualTriggerFunction!());
  });
});
