import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient, RoboflowError, VideoJobClient, checkConnection, checkReconfigure, isFatal, isRoboflowHosted, resolveConnection, type InitRequestBody } from '../../lib';
import { initialiseWorker } from '../../lib/stream/signaling';
import { secret } from '../helpers/secrets';

const KEY = secret('stub-key-0123456789');

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in HTTP server that records every request and answers with `answer`. */
async function stubServer(answer: (seen: Seen) => { status: number; body?: unknown } | 'never'): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(request);
      const reply = answer(request);
      if (reply === 'never') return; // Hold the request open, as a cold worker queue does.
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const offerBody = (key: string): InitRequestBody => ({
  api_key: key,
  workflow_configuration: {
    type: 'WorkflowConfiguration',
    workspace_name: 'ws',
    workflow_id: 'wf',
    image_input_name: 'image',
    video_metadata_input_name: 'video_metadata',
    workflows_parameters: {},
    workflows_thread_pool_workers: 4,
    cancel_thread_pool_tasks_on_exit: true,
  },
  webrtc_offer: { sdp: 'v=0', type: 'offer' },
  webrtc_config: null,
  webrtc_realtime_processing: true,
  stream_output: [],
  data_output: ['*'],
  processing_timeout: 3600,
});

describe('requests the engine sends (stub server)', () => {
  it('initialise_webrtc_worker carries the key as a Bearer header and in the body (older self-hosted servers read the body)', async () => {
    const stub = await stubServer(() => ({ status: 200, body: { status: 'success', sdp: 'v=0 answer', type: 'answer', context: { request_id: null, pipeline_id: null } } }));
    const http = new HttpClient({ apiKey: KEY });
    try {
      const connection = resolveConnection({ apiKey: KEY, serverUrl: stub.url, apiUrl: stub.url });
      const answer = await initialiseWorker(http, connection, offerBody(KEY));
      assert.equal(answer.sdp, 'v=0 answer');
      assert.equal(stub.seen.length, 1);
      assert.equal(stub.seen[0].headers.authorization, `Bearer ${KEY}`);
      assert.equal((JSON.parse(stub.seen[0].body) as { api_key: string }).api_key, KEY);
      assert.doesNotMatch(stub.seen[0].url, /api_key/, 'the key never goes in the URL of this call');
    } finally {
      await http.close();
      await stub.close();
    }
  });

  it('a worker that does not answer in time: one clear "cold start" error, not retried at once', async () => {
    const stub = await stubServer(() => 'never');
    const http = new HttpClient({ apiKey: KEY });
    try {
      const connection = resolveConnection({ apiKey: KEY, serverUrl: stub.url, apiUrl: stub.url });
      const error = await initialiseWorker(http, connection, offerBody(KEY), undefined, 1_000).then(
        () => assert.fail('expected a timeout'),
        (caught: unknown) => caught as RoboflowError,
      );
      assert.equal(error.code, 'gateway-timeout', 'reported as the service reports a worker not ready (504): a cold start');
      assert.match(error.message, /No worker within 1 s: a cold start or a busy service/);
      assert.equal(error.retryable, true, 'the stream reconnects later');
      assert.equal(stub.seen.length, 1, 'a long wait is not repeated by the HTTP retry');
    } finally {
      await http.close();
      await stub.close();
    }
  });

  it('a model video job reads the video through the signed URL verbatim, query string included', async () => {
    let base = '';
    const stub = await stubServer((seen) => {
      if (seen.method === 'POST' && seen.url.startsWith('/video_upload_signed_url')) return { status: 200, body: { signed_url: `${base}/bucket/clip.mp4?X-Goog-Expires=900&X-Goog-Signature=abc` } };
      if (seen.method === 'PUT') return { status: 200 };
      return { status: 200, body: { job_id: 'job-1' } };
    });
    base = stub.url;
    const client = new VideoJobClient({ connection: resolveConnection({ apiKey: KEY, serverUrl: stub.url, apiUrl: stub.url }) });
    try {
      const url = await client.upload({ kind: 'buffer', data: Buffer.from('not really a video'), fileName: 'clip.mp4' }, 'model');
      await client.submit(url, { generation: 'model', models: [{ modelId: 'colors', modelVersion: 1 }] }, 5);
      const submit = stub.seen.find((seen) => seen.url.startsWith('/videoinfer'));
      assert.equal((JSON.parse(submit?.body ?? '{}') as { input_url: string }).input_url, `${stub.url}/bucket/clip.mp4?X-Goog-Expires=900&X-Goog-Signature=abc`);
    } finally {
      await client.close();
      await stub.close();
    }
  });

  it('a closed client fails at once with an error a retry cannot fix (no loop through a redeployed config node)', async () => {
    const stub = await stubServer(() => ({ status: 503 }));
    const http = new HttpClient({ apiKey: KEY });
    await http.close();
    try {
      const error = await http.request({ method: 'GET', url: `${stub.url}/x`, operation: 'stream' }).then(
        () => assert.fail('expected an error'),
        (caught: unknown) => caught as RoboflowError,
      );
      assert.equal(error.code, 'aborted');
      assert.ok(isFatal(error));
      assert.equal(stub.seen.length, 0);
    } finally {
      await stub.close();
    }
  });
});

describe('connection rules', () => {
  it('every Roboflow streaming host gets TURN; other hosts do not', () => {
    for (const url of ['https://serverless.roboflow.com', 'https://serverless.roboflow.eu', 'https://serverless.roboflow-eu.one', 'https://api.roboflow.com']) {
      assert.equal(isRoboflowHosted(url), true, url);
    }
    for (const url of ['http://127.0.0.1:9001', 'https://roboflow.com.attacker.example', 'https://myroboflow.com', 'not a url']) {
      assert.equal(isRoboflowHosted(url), false, url);
    }
  });

  it('a region is any name the service knows (passed on as given); garbage is refused', () => {
    assert.equal(resolveConnection({ apiKey: KEY, region: 'eu-west' }).region, 'eu-west');
    assert.equal(resolveConnection({ apiKey: KEY, region: 'ap' }).region, 'ap');
    assert.throws(() => resolveConnection({ apiKey: KEY, region: 'eu west; drop' }), /Invalid region/);
  });

  it('reconfigure: the video output can change only on a session started with video, and never to none', () => {
    assert.doesNotThrow(() => checkReconfigure(undefined, { dataOutputs: ['count'] }));
    assert.doesNotThrow(() => checkReconfigure(['output_image'], { streamOutputs: ['other_image'] }));
    assert.doesNotThrow(() => checkReconfigure(null, { streamOutputs: ['other_image'] }));
    assert.throws(() => checkReconfigure([], { streamOutputs: ['output_image'] }), /started without video outputs/);
    assert.throws(() => checkReconfigure(undefined, { streamOutputs: ['output_image'] }), /started without video outputs/);
    assert.throws(() => checkReconfigure(['output_image'], { streamOutputs: [] }), /cannot be switched off/);
  });
});

describe('connection check', () => {
  it('one host for both URLs, down: the reason is said once, not twice', async () => {
    const connection = resolveConnection({ apiKey: KEY, serverUrl: 'http://127.0.0.1:9', apiUrl: 'http://127.0.0.1:9' });
    const result = await checkConnection(connection);
    assert.equal(result.ok, false);
    assert.equal(result.server, 'unreachable');
    assert.equal(result.message.match(/Cannot reach 127\.0\.0\.1:9/g)?.length, 1, result.message);
  });

  it('two hosts, the streaming server down: says which one', async () => {
    const stub = await stubServer(() => ({ status: 200, body: { iceServers: [] } }));
    try {
      const result = await checkConnection(resolveConnection({ apiKey: KEY, serverUrl: 'http://127.0.0.1:9', apiUrl: stub.url }));
      assert.equal(result.ok, false);
      assert.match(result.message, /API key accepted by http:\/\/127\.0\.0\.1:\d+; Cannot reach 127\.0\.0\.1:9/);
    } finally {
      await stub.close();
    }
  });
});
