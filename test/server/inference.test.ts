import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { API_KEY, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage } from '../helpers/media';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('wrong-key-server-inference');

const UNAUTHORIZED =
  'Unauthorized access to roboflow API - check API key and make sure the key is valid for workspace you use. ' +
  'Visit https://docs.roboflow.com/api-reference/authentication#retrieve-an-api-key to learn how to retrieve one.';

type Json = Record<string, unknown>;

/**
 * The local server's single-image endpoints against docs/protocol.md §6, field by field:
 * the paths (current and older), where the key goes, the answer shapes, and the error
 * bodies of Roboflow's error handlers.
 */
describe('local server: single-image inference (docs/protocol.md §6)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let images: Server;
  let imagesUrl: string;
  let jpeg: Buffer;
  let base64: string;

  before(async () => {
    server = await startLocalServer(['--cameras', '']);
    jpeg = await sceneImage('two-squares', 0);
    base64 = jpeg.toString('base64');
    images = createServer((req, res) => (req.url === '/a.jpg' ? res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  });
  after(async () => {
    await server.stop();
    await new Promise<void>((resolve) => images.close(() => resolve()));
  });
  beforeEach(() => server.resetFaults());

  async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> {
    const response = await fetch(server.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
  }

  const image = (): Json => ({ type: 'base64', value: base64 });

  describe('workflows (§6.1, §6.2)', () => {
    it('a saved workflow: {outputs: [one per image]}; image outputs {type, value, video_metadata}; detections as serialised', async () => {
      const { status, body } = await post('/demo/workflows/detect-colors', { api_key: API_KEY, inputs: { image: image() } });
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body), ['outputs']);
      const outputs = body.outputs as Json[];
      assert.equal(outputs.length, 1);
      assert.deepEqual(Object.keys(outputs[0]).sort(), ['count', 'output_image', 'predictions']);
      const picture = outputs[0].output_image as Json;
      assert.deepEqual(Object.keys(picture), ['type', 'value', 'video_metadata']);
      assert.equal(picture.type, 'base64');
      assert.equal((await sharp(Buffer.from(String(picture.value), 'base64')).metadata()).format, 'jpeg');
      assert.deepEqual(Object.keys(picture.video_metadata as Json), ['video_identifier', 'frame_number', 'frame_timestamp', 'fps', 'measured_fps', 'comes_from_video_file']);
      const detections = outputs[0].predictions as { image: Json; predictions: Json[] };
      assert.deepEqual(detections.image, { width: 320, height: 240 });
      assert.deepEqual(
        detections.predictions.map((p) => Object.keys(p).sort()),
        [0, 1].map(() => ['class', 'class_id', 'confidence', 'detection_id', 'height', 'parent_id', 'width', 'x', 'y']),
      );
      assert.deepEqual(detections.predictions.map((p) => p.class).sort(), ['blue', 'red']);
      assert.equal(outputs[0].count, 2);
    });

    it('the older path, an inline specification (both paths), a list of images, a URL image, parameters and excluded_fields', async () => {
      const legacy = await post('/infer/workflows/demo/image-stats', { api_key: API_KEY, inputs: { image: image() } });
      assert.deepEqual(legacy.body, { outputs: [{ brightness: (legacy.body.outputs as Json[])[0].brightness, width: 320, height: 240 }] });
      const specification = {
        version: '1.0',
        inputs: [
          { type: 'WorkflowImage', name: 'picture' },
          { type: 'WorkflowParameter', name: 'colors', default_value: null },
        ],
        steps: [{ type: 'local/color_detector@v1', name: 'd', image: '$inputs.picture', colors: '$inputs.colors' }],
        outputs: [
          { type: 'JsonField', name: 'count', selector: '$steps.d.count' },
          { type: 'JsonField', name: 'seen', selector: '$steps.d.predictions' },
        ],
      };
      for (const path of ['/workflows/run', '/infer/workflows']) {
        const inline = await post(path, { api_key: API_KEY, specification, inputs: { picture: [image(), { type: 'url', value: `${imagesUrl}/a.jpg` }], colors: ['red'] }, excluded_fields: ['seen'] });
        assert.equal(inline.status, 200, JSON.stringify(inline.body));
        assert.deepEqual(inline.body, { outputs: [{ count: 1 }, { count: 1 }] });
      }
    });

    it('the key: in the body; a Bearer header overrides it', async () => {
      assert.equal((await post('/demo/workflows/image-stats', { api_key: WRONG_KEY, inputs: { image: image() } }, { authorization: `Bearer ${API_KEY}` })).status, 200);
      const rejected = await post('/demo/workflows/image-stats', { api_key: API_KEY, inputs: { image: image() } }, { authorization: `Bearer ${WRONG_KEY}` });
      assert.deepEqual([rejected.status, rejected.body], [401, { message: UNAUTHORIZED }]);
      const missing = await post('/demo/workflows/image-stats', { inputs: { image: image() } });
      assert.equal(missing.status, 422);
      assert.deepEqual(((missing.body.detail as Json[])[0] as { loc: string[] }).loc, ['body', 'api_key']);
    });

    it('errors: 404 for an unknown workflow, 400 RuntimeInputError for an image that cannot be used, 400 WorkflowSyntaxError with blocks_errors', async () => {
      const unknown = await post('/demo/workflows/no-such-workflow', { api_key: API_KEY, inputs: { image: image() } });
      assert.equal(unknown.status, 404);
      assert.deepEqual(Object.keys(unknown.body), ['message']);
      assert.match(String(unknown.body.message), /^Requested Roboflow resource not found\. Make sure that workspace, project or model you referred in request exists\./);

      for (const value of [{ type: 'base64', value: Buffer.from('not an image').toString('base64') }, { type: 'url', value: `${imagesUrl}/missing.jpg` }, undefined]) {
        const bad = await post('/demo/workflows/image-stats', { api_key: API_KEY, inputs: value ? { image: value } : {} });
        assert.equal(bad.status, 400);
        assert.deepEqual(Object.keys(bad.body), ['message', 'error_type', 'context', 'inner_error_type', 'inner_error_message']);
        assert.equal(bad.body.error_type, 'RuntimeInputError');
        assert.equal(bad.body.context, 'workflow_execution | runtime_input_validation');
        assert.match(
          String(bad.body.message),
          value ? /^Failed to assemble `image`\. Could not successfully use any deserializer/ : /^Detected runtime parameter `image` defined as `WorkflowImage`.*but value is not provided\.$/,
        );
      }

      const syntax = await post('/workflows/run', { api_key: API_KEY, specification: { version: '1.0', inputs: [], steps: [], outputs: [] }, inputs: { image: image() } });
      assert.equal(syntax.status, 400);
      assert.deepEqual(Object.keys(syntax.body), ['message', 'error_type', 'context', 'inner_error_type', 'inner_error_message', 'blocks_errors']);
      assert.equal(syntax.body.error_type, 'WorkflowSyntaxError');
      assert.deepEqual(syntax.body.blocks_errors, []);

      await server.faults({ unknownWorkflow: true });
      assert.equal((await post('/demo/workflows/image-stats', { api_key: API_KEY, inputs: { image: image() } })).status, 404);
    });

    it('injected faults: failNext on workflow_inference answers 503 with Retry-After', async () => {
      await server.faults({ failNext: { workflow_inference: { status: 503, count: 1 } } });
      const failed = await post('/demo/workflows/image-stats', { api_key: API_KEY, inputs: { image: image() } });
      assert.deepEqual([failed.status, failed.headers.get('retry-after')], [503, '1']);
      assert.equal((await post('/demo/workflows/image-stats', { api_key: API_KEY, inputs: { image: image() } })).status, 200);
    });
  });

  describe('trained models (§6.3)', () => {
    async function model(path: string, body: string | undefined, contentType: string | undefined = 'application/x-www-form-urlencoded'): Promise<{ status: number; body: Json }> {
      const response = await fetch(server.url + path, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });
      return { status: response.status, body: (await response.json()) as Json };
    }

    it('POST /{project}/{version}?api_key= with the base64 image as the body: {inference_id, time, image, predictions}', async () => {
      const { status, body } = await model(`/colors/1?api_key=${API_KEY}`, base64);
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body), ['inference_id', 'time', 'image', 'predictions']);
      assert.deepEqual(body.image, { width: 320, height: 240 });
      assert.equal(typeof body.time, 'number');
      const predictions = body.predictions as Json[];
      assert.deepEqual(
        predictions.map((p) => Object.keys(p)),
        [0, 1].map(() => ['x', 'y', 'width', 'height', 'confidence', 'class', 'class_id', 'detection_id']),
      );
    });

    it('?image=<url> instead of a body; confidence (0-1 or percent) and classes narrow the answer', async () => {
      const byUrl = await model(`/colors/1?api_key=${API_KEY}&image=${encodeURIComponent(`${imagesUrl}/a.jpg`)}`, undefined, undefined);
      assert.equal((byUrl.body.predictions as Json[]).length, 2);
      assert.equal(((await model(`/colors/1?api_key=${API_KEY}&confidence=0.995`, base64)).body.predictions as Json[]).length, 0);
      assert.equal(((await model(`/colors/1?api_key=${API_KEY}&confidence=40`, base64)).body.predictions as Json[]).length, 2);
      assert.deepEqual(
        ((await model(`/colors/1?api_key=${API_KEY}&classes=red`, base64)).body.predictions as Json[]).map((p) => p.class),
        ['red'],
      );
    });

    it('errors: 401, 404 for an unknown model, 400 without a Content-Type, 400 for an image that does not load', async () => {
      assert.deepEqual(await model(`/colors/1?api_key=${WRONG_KEY}`, base64), { status: 401, body: { message: UNAUTHORIZED } });
      const unknown = await model(`/no-such-model/3?api_key=${API_KEY}`, base64);
      assert.equal(unknown.status, 404);
      assert.match(String(unknown.body.message), /^Requested Roboflow resource not found\./);
      assert.equal((await model(`/colors/2?api_key=${API_KEY}`, base64)).status, 404, 'an unknown version too');
      const response = await fetch(`${server.url}/colors/1?api_key=${API_KEY}`, { method: 'POST', body: new Uint8Array(Buffer.from(base64)) });
      assert.deepEqual([response.status, await response.json()], [400, { message: 'Content-Type header not provided with request.' }]);
      const broken = await model(`/colors/1?api_key=${API_KEY}`, Buffer.from('not an image').toString('base64'));
      assert.equal(broken.status, 400);
      assert.match(String(broken.body.message), /^Could not load input image\. Cause: /);
      const empty = await model(`/colors/1?api_key=${API_KEY}`, '');
      assert.deepEqual(empty, { status: 400, body: { message: 'Could not load input image. Cause: Image not found in request body.' } });
    });
  });
});
