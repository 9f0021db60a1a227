import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { HttpClient, RoboflowError } from '../../lib';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('HttpClient', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  let requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  const fast = { initialMs: 5, maxMs: 20, min429DelayMs: 0 };

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    requests = [];
  });

  const client = new HttpClient({ apiKey: 'key-under-test-123' });
  after(() => client.close());

  it('puts the key in the query or a Bearer header as asked, never both', async () => {
    handler = (_req, res) => res.end('{"ok":true}');
    await client.request({ method: 'GET', url: `${base}/q`, auth: 'query', operation: 'video-job' });
    await client.request({ method: 'POST', url: `${base}/b`, auth: 'bearer', json: { a: 1 }, operation: 'vision-events' });
    assert.match(requests[0].url, /api_key=key-under-test-123/);
    assert.equal(requests[0].headers.authorization, undefined);
    assert.equal(requests[1].headers.authorization, 'Bearer key-under-test-123');
    assert.doesNotMatch(requests[1].url, /api_key/);
    assert.equal(requests[1].headers['content-type'], 'application/json');
    assert.equal(requests[1].body, '{"a":1}');
  });

  it('retries 503 and network-level failures with backoff, then succeeds', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls < 3) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"message":"busy"}');
      } else res.end('{"done":true}');
    };
    const retries: number[] = [];
    const response = await client.request<{ done: boolean }>({ method: 'GET', url: `${base}/r`, operation: 'stream', retry: fast, onRetry: ({ attempt }) => retries.push(attempt) });
    assert.deepEqual(response.body, { done: true });
    assert.deepEqual(retries, [1, 2]);
  });

  it('honours Retry-After on 429', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end('{"message":"slow down"}');
      } else res.end('{}');
    };
    const started = Date.now();
    await client.request({ method: 'GET', url: `${base}/slow`, operation: 'video-job', retry: fast });
    assert.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`);
  });

  it('never retries a 4xx the user must fix', async () => {
    handler = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"message":"Unauthorized"}');
    };
    await assert.rejects(client.request({ method: 'GET', url: `${base}/k`, operation: 'stream', retry: fast }), (error: RoboflowError) => error.code === 'invalid-api-key');
    assert.equal(requests.length, 1);
  });

  it('gives up after the last attempt with the last error', async () => {
    handler = (_req, res) => {
      res.writeHead(502);
      res.end('upstream');
    };
    await assert.rejects(client.request({ method: 'GET', url: `${base}/x`, operation: 'stream', retry: { ...fast, attempts: 3 } }), (error: RoboflowError) => error.code === 'bad-gateway');
    assert.equal(requests.length, 3);
  });

  it('retryIf narrows what is retried', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end('{"message":"You have reached the maximum of 10 concurrent streams."}');
    };
    await assert.rejects(
      client.request({ method: 'POST', url: `${base}/s`, json: {}, operation: 'stream', retry: fast, retryIf: (error) => error.code !== 'stream-limit' }),
      (error: RoboflowError) => error.code === 'stream-limit',
    );
    assert.equal(requests.length, 1);
  });

  it('times out a server that never answers', async () => {
    handler = () => undefined;
    await assert.rejects(client.request({ method: 'GET', url: `${base}/hang`, operation: 'stream', timeoutMs: 200, retry: false }), (error: RoboflowError) => error.code === 'timeout');
  });

  it('reports an unreachable server as a network error that names the host', async () => {
    await assert.rejects(
      client.request({ method: 'GET', url: 'http://127.0.0.1:9/x', operation: 'stream', retry: false }),
      (error: RoboflowError) => error.code === 'network' && error.message.includes('127.0.0.1:9'),
    );
  });

  it('replays a body factory on every attempt (streams cannot be replayed)', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      res.writeHead(calls === 1 ? 503 : 200);
      res.end();
    };
    await client.request({ method: 'PUT', url: `${base}/put`, body: () => Readable.from([Buffer.from('hello '), Buffer.from('world')]), operation: 'video-upload', responseType: 'none', retry: fast });
    assert.deepEqual(
      requests.map((request) => request.body),
      ['hello world', 'hello world'],
    );
  });

  it('rejects a 2xx answer that is not JSON with a protocol error', async () => {
    handler = (_req, res) => res.end('<html>proxy</html>');
    await assert.rejects(client.request({ method: 'GET', url: `${base}/html`, operation: 'stream', retry: false }), (error: RoboflowError) => error.code === 'protocol');
  });
});
