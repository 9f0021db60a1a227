import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { InferenceClient, MAX_IMAGE_BYTES, decodeOutputs, filterDetections, resolveConnection, sniffImage, toImageInput, toImageInputs, type ImageInput } from '../../lib';
import { secret } from '../helpers/secrets';

const KEY = secret('inference-unit-key-1');

interface Captured {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

/** An HTTP server that records each request and answers what the test queued (200 {} by default). */
async function captureServer(): Promise<{ url: string; requests: Captured[]; answers: Array<{ status: number; body: unknown; headers?: Record<string, string> }>; close(): Promise<void> }> {
  const requests: Captured[] = [];
  const answers: Array<{ status: number; body: unknown; headers?: Record<string, string> }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift() ?? { status: 200, body: {} };
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('engine: single-image inference', () => {
  let jpeg: Buffer;
  let png: Buffer;
  let webp: Buffer;
  let dir: string;

  before(async () => {
    const raw = { raw: { width: 8, height: 8, channels: 3 as const } };
    jpeg = await sharp(Buffer.alloc(8 * 8 * 3, 128), raw)
      .jpeg()
      .toBuffer();
    png = await sharp(Buffer.alloc(8 * 8 * 3, 128), raw)
      .png()
      .toBuffer();
    webp = await sharp(Buffer.alloc(8 * 8 * 3, 128), raw)
      .webp()
      .toBuffer();
    dir = mkdtempSync(join(tmpdir(), 'roboflow-inference-'));
  });

  describe('image inputs', () => {
    it('knows JPEG, PNG and WebP by their first bytes, and nothing else', () => {
      assert.equal(sniffImage(jpeg), 'jpeg');
      assert.equal(sniffImage(png), 'png');
      assert.equal(sniffImage(webp), 'webp');
      assert.equal(sniffImage(Buffer.from('GIF89a......')), undefined);
      assert.equal(sniffImage(Buffer.from([0xff, 0xd8])), undefined);
    });

    it('takes a Buffer, a Uint8Array, base64 text, a data: URL, a Roboflow image object, an http(s) URL and a file path', async () => {
      const path = join(dir, 'a.png');
      writeFileSync(path, png);
      const base64 = jpeg.toString('base64');
      const forms: Array<[unknown, ImageInput]> = [
        [jpeg, { type: 'base64', value: base64, format: 'jpeg', bytes: jpeg.length }],
        [new Uint8Array(jpeg), { type: 'base64', value: base64, format: 'jpeg', bytes: jpeg.length }],
        [base64, { type: 'base64', value: base64, format: 'jpeg', bytes: jpeg.length }],
        [`${base64.slice(0, 40)}\n${base64.slice(40)}`, { type: 'base64', value: base64, format: 'jpeg', bytes: jpeg.length }],
        [`data:image/jpeg;base64,${base64}`, { type: 'base64', value: base64, format: 'jpeg', bytes: jpeg.length }],
        [
          { type: 'base64', value: base64 },
          { type: 'base64', value: base64, format: 'jpeg', bytes: jpeg.length },
        ],
        [
          { type: 'url', value: 'https://cams.example/a.jpg' },
          { type: 'url', value: 'https://cams.example/a.jpg' },
        ],
        [' http://10.0.0.5/snapshot.jpg?size=large ', { type: 'url', value: 'http://10.0.0.5/snapshot.jpg?size=large' }],
        [path, { type: 'base64', value: png.toString('base64'), format: 'png', bytes: png.length }],
      ];
      for (const [source, expected] of forms) assert.deepEqual(await toImageInput(source), expected);
      assert.equal((await toImageInputs([jpeg, 'https://cams.example/b.jpg'])).length, 2);
    });

    it('refuses a 40 MB image with one clear message, without reading or decoding it', async () => {
      const huge = Buffer.alloc(40 * 1024 * 1024);
      huge.set([0xff, 0xd8, 0xff, 0xe0]);
      const message = /^RoboflowError: Image too large: the image is 40\.0 MB, the limit is 20\.0 MB \(Roboflow's hosted API accepts up to 20 MB\): resize or recompress it first$/;
      await assert.rejects(() => toImageInput(huge), message);
      await assert.rejects(() => toImageInput(huge.toString('base64')), message);
      const path = join(dir, 'huge.jpg');
      writeFileSync(path, huge);
      await assert.rejects(() => toImageInput(path), /^RoboflowError: Image too large: .*huge\.jpg is 40\.0 MB/);
      // Together over the limit: refused too (one request carries them all).
      const half = Buffer.alloc(MAX_IMAGE_BYTES / 2 + 1);
      half.set([0xff, 0xd8, 0xff]);
      await assert.rejects(() => toImageInputs([half, half]), /^RoboflowError: Image too large: the image \(2 images together\)/);
    });

    it('refuses what is not an image, by its bytes, with a message that says what to send', async () => {
      await assert.rejects(() => toImageInput(Buffer.from('hello, this is text')), /^RoboflowError: Not an image: the image is not; send a JPEG, PNG or WebP image$/);
      await assert.rejects(() => toImageInput(Buffer.alloc(0)), /^RoboflowError: Empty image/);
      await assert.rejects(
        () => toImageInput(Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(300)]).toString('base64')),
        /^RoboflowError: Not an image: the image is base64 text but not; send a JPEG, PNG or WebP image$/,
      );
      await assert.rejects(() => toImageInput('data:image/jpeg;base64,aGVsbG8gd29ybGQgaGVsbG8='), /^RoboflowError: Not an image: the image is base64 text but not/);
      await assert.rejects(() => toImageInput(join(dir, 'missing.jpg')), /^RoboflowError: No such image file: .*missing\.jpg/);
      await assert.rejects(() => toImageInput(dir), /^RoboflowError: Not a file: /);
      await assert.rejects(() => toImageInput('ftp://cams.example/a.jpg'), /^RoboflowError: No such image file/);
      await assert.rejects(() => toImageInput({ type: 'url', value: 'ftp://x/a.jpg' }), /must start with http:\/\/ or https:\/\//);
      await assert.rejects(() => toImageInput(42), /^RoboflowError: Unsupported image in the image \(number\)/);
      await assert.rejects(() => toImageInputs([]), /^RoboflowError: No image: the image is an empty array/);
      await assert.rejects(() => toImageInputs(new Array(17).fill(jpeg)), /^RoboflowError: Too many images in one message: 17 \(at most 16\)/);
    });
  });

  describe('answers', () => {
    it('image outputs become Buffers kept apart; the detections are found; nothing else changes', () => {
      const image = { type: 'base64', value: jpeg.toString('base64'), video_metadata: { frame_number: 0 } };
      const decoded = decodeOutputs({
        count: 1,
        detections: { image: { width: 8, height: 8 }, predictions: [{ x: 1, y: 1, width: 2, height: 2, class: 'person', confidence: 0.9 }] },
        output_image: image,
        crops: [image, image],
        nested: { label: 'x', picture: image },
      });
      assert.deepEqual(Object.keys(decoded.outputs).sort(), ['count', 'detections', 'nested']);
      assert.ok(Buffer.isBuffer(decoded.images.output_image));
      assert.equal((decoded.images.crops as Buffer[]).length, 2);
      assert.ok(Buffer.isBuffer((decoded.outputs.nested as { picture: unknown }).picture), 'an image inside data: its bytes, never base64 text');
      assert.deepEqual(
        decoded.predictions?.map((p) => p.class),
        ['person'],
      );
      assert.deepEqual(decodeOutputs({ predictions: { image: { width: 1, height: 1 }, predictions: [] } }).predictions, []);
      assert.equal(decodeOutputs({ brightness: 12 }).predictions, undefined);
    });

    it('the detection filter: classes (any case) and a confidence floor', () => {
      const predictions = [
        { class: 'Person', confidence: 0.8 },
        { class: 'person', confidence: 0.3 },
        { class: 'car', confidence: 0.95 },
      ];
      assert.equal(filterDetections(predictions, { classes: ['person'], minConfidence: 0.5 }).length, 1);
      assert.equal(filterDetections(predictions, { classes: [], minConfidence: 0.5 }).length, 2);
      assert.equal(filterDetections(undefined, { classes: [], minConfidence: 0 }).length, 0);
    });
  });

  describe('requests (docs/protocol.md §6), as sent on the wire', () => {
    let capture: Awaited<ReturnType<typeof captureServer>>;
    let client: InferenceClient;

    beforeEach(async () => {
      capture = await captureServer();
      client = new InferenceClient({
        connection: resolveConnection({ apiKey: KEY, serverUrl: `${capture.url}/`, apiUrl: capture.url }),
        retry: { attempts: 3, initialMs: 10, maxMs: 20, min429DelayMs: 10 },
      });
    });
    afterEach(async () => {
      await client.close();
      await capture.close();
    });

    it('a saved workflow: POST /{workspace}/workflows/{id}, the key and inputs in the JSON body, version and dry run when set', async () => {
      capture.answers.push({ status: 200, body: { outputs: [{ count: 0 }] } });
      const image = await toImageInput(jpeg);
      const result = await client.runWorkflow({ workspace: 'my ws', workflowId: 'find-people', versionId: 'v7' }, image, {
        parameters: { min_area: 10 },
        disableSinks: true,
        excludedFields: ['output_image'],
      });
      assert.deepEqual(result.results, [{ outputs: { count: 0 }, images: {} }]);
      const [request] = capture.requests;
      assert.equal(request.method, 'POST');
      assert.equal(request.path, '/my%20ws/workflows/find-people');
      assert.equal([...request.query.keys()].length, 0, 'no key in the URL');
      assert.equal(request.headers.authorization, undefined);
      assert.equal(request.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(request.body), {
        api_key: KEY,
        inputs: { min_area: 10, image: { type: 'base64', value: jpeg.toString('base64') } },
        workflow_version_id: 'v7',
        excluded_fields: ['output_image'],
        disable_sinks: true,
      });
    });

    it('an inline specification: POST /workflows/run with the specification; several images as a list, a URL as a URL', async () => {
      capture.answers.push({ status: 200, body: { outputs: [{ n: 1 }, { n: 2 }] } });
      const specification = { version: '1.0', inputs: [], steps: [], outputs: [] };
      const images = await toImageInputs([png, 'https://cams.example/a.jpg']);
      const result = await client.runWorkflow({ specification }, images, { imageInput: 'picture' });
      assert.deepEqual(
        result.results.map((r) => r.outputs),
        [{ n: 1 }, { n: 2 }],
      );
      const [request] = capture.requests;
      assert.equal(request.path, '/workflows/run');
      assert.deepEqual(JSON.parse(request.body), {
        api_key: KEY,
        inputs: {
          picture: [
            { type: 'base64', value: png.toString('base64') },
            { type: 'url', value: 'https://cams.example/a.jpg' },
          ],
        },
        specification,
      });
    });

    it('a model: POST /{project}/{version}?api_key=, the base64 image as a form body, or ?image=<url>; options in the query', async () => {
      capture.answers.push({
        status: 200,
        body: { predictions: [{ class: 'car', confidence: 0.9, x: 1, y: 1, width: 1, height: 1 }], image: { width: 8, height: 8 }, time: 0.01, inference_id: 'i1' },
      });
      capture.answers.push({ status: 200, body: { predictions: [], image: { width: 8, height: 8 } } });
      const result = await client.runModel('license-plates/2', await toImageInput(jpeg), { confidence: 0.5, overlap: 0.3 });
      assert.deepEqual(
        result.predictions?.map((p) => p.class),
        ['car'],
      );
      assert.equal(result.answer.inference_id, 'i1');
      const withUrl = await client.runModel('license-plates/2', await toImageInput('https://cams.example/a.jpg'));
      assert.deepEqual(withUrl.predictions, []);
      const [first, second] = capture.requests;
      assert.equal(first.path, '/license-plates/2');
      assert.equal(first.query.get('api_key'), KEY);
      assert.equal(first.query.get('confidence'), '0.5');
      assert.equal(first.query.get('overlap'), '0.3');
      assert.equal(first.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(first.body, jpeg.toString('base64'));
      assert.equal(second.query.get('image'), 'https://cams.example/a.jpg');
      assert.equal(second.body, '');
      await assert.rejects(() => client.runModel('license-plates', { type: 'url', value: 'https://x/a.jpg' }), /^RoboflowError: Invalid model id "license-plates": use project\/version/);
    });

    it('retries 429 and 5xx (Retry-After honoured), then gives one typed error; 4xx at once', async () => {
      capture.answers.push({ status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '0' } }, { status: 503, body: { message: 'busy' } }, { status: 200, body: { outputs: [{}] } });
      await client.runWorkflow({ workspace: 'w', workflowId: 'f' }, { type: 'url', value: 'https://x/a.jpg' });
      assert.equal(capture.requests.length, 3);
      capture.answers.push({ status: 404, body: { message: 'Requested Roboflow resource not found.' } });
      await assert.rejects(
        () => client.runWorkflow({ workspace: 'w', workflowId: 'gone' }, { type: 'url', value: 'https://x/a.jpg' }),
        (error: Error & { code?: string; status?: number }) => {
          assert.equal(error.code, 'not-found');
          assert.equal(error.status, 404);
          assert.match(error.message, /^Not found \(404\): check the workspace and workflow id, or the model id \(project\/version\), and the server URL/);
          return true;
        },
      );
      assert.equal(capture.requests.length, 4, 'a 404 is not retried');
      capture.answers.push({ status: 400, body: { message: 'Failed to assemble `image`.', error_type: 'RuntimeInputError', context: 'workflow_execution | runtime_input_validation' } });
      await assert.rejects(
        () => client.runWorkflow({ workspace: 'w', workflowId: 'f' }, { type: 'url', value: 'https://x/a.jpg' }),
        /^RoboflowError: Request rejected \(400\): Failed to assemble `image`\.$/,
      );
      capture.answers.push({ status: 200, body: { unexpected: true } });
      await assert.rejects(() => client.runWorkflow({ workspace: 'w', workflowId: 'f' }, { type: 'url', value: 'https://x/a.jpg' }), /no outputs list/);
    });
  });
});
