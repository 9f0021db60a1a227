import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  NodeConnectionTypes,
  NodeHelpers,
  NodeOperationError,
  deepCopy,
  generateZodSchema,
  traverseNodeParameters,
  type FromAIArgument,
  type IBinaryData,
  type IExecuteFunctions,
  type INode,
  type INodeExecutionData,
  type INodeProperties,
  type INodeTypeDescription,
} from 'n8n-workflow';
import sharp from 'sharp';
import { Roboflow } from '../../nodes/n8n/Roboflow/Roboflow.node.js';
import type { RoboflowApiCredential } from '../../nodes/n8n/shared/connection';
import { API_KEY, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage } from '../helpers/media';
import { binaryItem, executeContext, scanExecutions, type ExecuteContextOptions } from '../helpers/n8n-context';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('wrong-key-roboflow-n8n');
scanExecutions(Roboflow);

const TYPE = '@visionflows/n8n-nodes-roboflow.roboflow';

interface Box {
  class: string;
  confidence: number;
}

/** The execute context of the shared helper, plus prepareBinaryData (n8n's way to hand out binary data). */
function context(options: Omit<ExecuteContextOptions, 'type'>): IExecuteFunctions {
  const ctx = executeContext({ type: TYPE, ...options });
  const helpers = ctx.helpers as unknown as Record<string, unknown>;
  helpers.prepareBinaryData = async (data: Buffer, fileName: string, mimeType: string): Promise<IBinaryData> => ({
    data: data.toString('base64'),
    fileName,
    mimeType,
    fileExtension: fileName.split('.').pop(),
    fileSize: String(data.byteLength),
  });
  return ctx;
}

function hasBase64Text(value: unknown): boolean {
  return /"[A-Za-z0-9+/=]{500,}"/.test(JSON.stringify(value));
}

/**
 * What n8n does to a node with `usableAsTool` when it loads it (packages/core, nodes
 * loader: createAiTools -> convertNodeToAiTool, read 2026-12 from n8n's source): a copy
 * of the description named `<name>Tool`, no main input, an `ai_tool` output, and a
 * `descriptionType` + `toolDescription` pair of properties (the pair because the node
 * has an `operation`). Written out here because n8n-workflow does not ship it.
 */
function asAiTool(description: INodeTypeDescription): INodeTypeDescription {
  const tool = deepCopy(description);
  tool.name += 'Tool';
  tool.displayName += ' Tool';
  tool.inputs = [];
  tool.outputs = [NodeConnectionTypes.AiTool];
  delete tool.usableAsTool;
  const descriptionType: INodeProperties = {
    displayName: 'Tool Description',
    name: 'descriptionType',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'Set Automatically', value: 'auto' },
      { name: 'Set Manually', value: 'manual' },
    ],
    default: 'auto',
  };
  const toolDescription: INodeProperties = {
    displayName: 'Description',
    name: 'toolDescription',
    type: 'string',
    default: description.description,
    required: true,
    displayOptions: { show: { descriptionType: ['manual'] } },
  };
  tool.properties = [descriptionType, toolDescription, ...tool.properties];
  return tool;
}

describe('n8n: Roboflow (action node)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let credential: RoboflowApiCredential;
  let images: Server;
  let imagesUrl: string;
  let personJpeg: Buffer;
  let emptyJpeg: Buffer;
  const node = new Roboflow();
  const saved = { operation: 'runWorkflow', workflowMode: 'saved', workspace: 'demo', workflowId: 'detect-colors', options: { parameters: '{"class_names": {"red": "person", "green": "door"}}' } };

  before(async () => {
    server = await startLocalServer(['--cameras', '']);
    credential = { apiKey: API_KEY, serverUrl: server.url, apiUrl: server.url };
    personJpeg = await sceneImage('door', 50);
    emptyJpeg = await sceneImage('door', 95);
    images = createServer((req, res) => {
      if (req.url === '/person.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(personJpeg);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  });
  after(async () => {
    await server.stop();
    await new Promise<void>((resolve) => images.close(() => resolve()));
  });
  beforeEach(() => server.resetFaults());

  it('Run Workflow on Image, binary in: the outputs as JSON, the annotated image as binary, the input binary kept', async () => {
    const items = [binaryItem(personJpeg, 'snapshot.jpg', 'image/jpeg', { camera: 'door' })];
    const [out] = await node.execute.call(context({ parameters: { ...saved, input: 'binary', binaryPropertyName: 'data' }, credential, items }));
    assert.equal(out.length, 1);
    const json = out[0].json as { count: number; predictions: { predictions: Box[] }; output_image?: unknown };
    assert.equal(json.count, 2);
    assert.deepEqual(json.predictions.predictions.map((p) => p.class).sort(), ['door', 'person']);
    assert.equal(json.output_image, undefined);
    assert.ok(!hasBase64Text(out[0].json), 'no image data in the JSON');
    const annotated = out[0].binary!.output_image;
    assert.equal(annotated.mimeType, 'image/jpeg');
    assert.equal(annotated.fileName, 'output_image.jpg');
    const meta = await sharp(Buffer.from(annotated.data, 'base64')).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 640, 360]);
    assert.equal(out[0].binary!.data.fileName, 'snapshot.jpg', 'the input image is passed on');
    assert.deepEqual(out[0].pairedItem, { item: 0 });
  });

  it('Run Workflow on Image, URL in (the server fetches it); several items keep their order', async () => {
    const params = (index: number) => ({ ...saved, input: 'url', imageUrl: index % 2 === 0 ? `${imagesUrl}/person.jpg` : `${server.url}/local/cameras/door.jpg` });
    const items = Array.from({ length: 6 }, () => ({ json: {} }));
    const [out] = await node.execute.call(context({ parameters: params, credential, items }));
    assert.equal(out.length, 6);
    assert.deepEqual(
      out.map((item) => item.pairedItem),
      [0, 1, 2, 3, 4, 5].map((item) => ({ item })),
    );
    for (const index of [0, 2, 4]) assert.equal((out[index].json as { count: number }).count, 2);
    assert.ok(out.every((item) => item.binary?.output_image));
  });

  it("Run Model on Image, binary and URL in: the model's answer as JSON", async () => {
    for (const parameters of [
      { operation: 'runModel', model: 'colors/1', input: 'binary', binaryPropertyName: 'data', options: {} },
      { operation: 'runModel', model: 'colors/1', input: 'url', imageUrl: `${imagesUrl}/person.jpg`, options: { confidence: 0.5 } },
    ]) {
      const [out] = await node.execute.call(context({ parameters, credential, items: [binaryItem(personJpeg, 'a.jpg', 'image/jpeg')] }));
      const json = out[0].json as { predictions: Box[]; image: { width: number; height: number }; inference_id: string };
      assert.deepEqual(json.image, { width: 640, height: 360 });
      assert.deepEqual(json.predictions.map((p) => p.class).sort(), ['green', 'red']);
      assert.equal(typeof json.inference_id, 'string');
    }
  });

  it('errors: one NodeOperationError with the item index; with Continue On Fail, per item', async () => {
    const items = [binaryItem(personJpeg, 'ok.jpg', 'image/jpeg'), binaryItem(Buffer.from('not a picture'), 'notes.txt', 'text/plain'), binaryItem(emptyJpeg, 'empty.jpg', 'image/jpeg')];
    const parameters = { ...saved, input: 'binary', binaryPropertyName: 'data' };
    await assert.rejects(
      () => node.execute.call(context({ parameters, credential, items })),
      (error: unknown) => {
        assert.ok(error instanceof NodeOperationError);
        assert.equal(error.context.itemIndex, 1);
        assert.match(error.message, /^Not an image: the binary field "data" is not; send a JPEG, PNG or WebP image$/);
        return true;
      },
    );
    const [out] = await node.execute.call(context({ parameters, credential, items, continueOnFail: true }));
    assert.equal(out.length, 3);
    assert.equal((out[0].json as { count: number }).count, 2);
    assert.match(String(out[1].json.error), /^Not an image/);
    assert.equal((out[2].json as { count: number }).count, 1);

    const unreachable = { ...saved, input: 'url', imageUrl: 'http://127.0.0.1:9/gone.jpg' };
    const [failed] = await node.execute.call(context({ parameters: unreachable, credential, continueOnFail: true }));
    assert.match(String(failed[0].json.error), /^Request rejected \(400\): Failed to assemble `image`.*Could not load image from url/s);

    await assert.rejects(
      () => node.execute.call(context({ parameters: { ...saved, workflowId: 'nope', input: 'url', imageUrl: `${imagesUrl}/person.jpg` }, credential })),
      /^NodeOperationError: Not found \(404\)|Not found \(404\)/,
    );
    await assert.rejects(
      () => node.execute.call(context({ parameters: { ...saved, input: 'url', imageUrl: `${imagesUrl}/person.jpg` }, credential: { ...credential, apiKey: WRONG_KEY } })),
      /API key rejected \(401\)/,
    );
    await assert.rejects(
      () =>
        node.execute.call(
          context({
            parameters: { operation: 'runModel', model: 'nope/1', input: 'binary', binaryPropertyName: 'data', options: {} },
            credential,
            items: [binaryItem(personJpeg, 'a.jpg', 'image/jpeg')],
          }),
        ),
      /Not found \(404\)/,
    );
    await assert.rejects(
      () => node.execute.call(context({ parameters: { ...saved, input: 'binary', binaryPropertyName: 'photo' }, credential, items: [binaryItem(personJpeg, 'a.jpg', 'image/jpeg')] })),
      /binary file 'photo'/,
    );
  });

  describe('as an AI agent tool, the way n8n wraps it', () => {
    const description = node.description;
    const tool = asAiTool(description);

    it('is offered as a tool: usableAsTool, no property names n8n adds, a tool once wrapped', () => {
      assert.equal(description.usableAsTool, true);
      const names = description.properties.map((property) => property.name);
      assert.ok(!names.includes('toolDescription') && !names.includes('descriptionType'), 'n8n adds these itself');
      assert.ok(names.includes('operation'), 'an operation: n8n offers "Set Automatically" for the description');
      assert.equal(tool.name, 'roboflowTool');
      assert.ok(NodeHelpers.isTool(tool, {}), 'n8n sees the wrapped node as a tool (ai_tool output)');
      assert.ok(!NodeHelpers.isTool(description, {}), 'the node itself stays an ordinary action node');
    });

    it('tells the agent what goes in and what comes out', () => {
      const agentNode: INode = { id: 't', name: 'Roboflow Vision', type: `${TYPE}Tool`, typeVersion: 1, position: [0, 0], parameters: { descriptionType: 'auto', operation: 'runWorkflow' } };
      const text = NodeHelpers.getToolDescriptionForNode(agentNode, { description: tool });
      assert.equal(text, description.description);
      assert.match(text, /URL of an image/);
      assert.match(text, /returns JSON/);
      assert.ok(text.length < 400, 'short enough for a tool list');
      for (const option of (description.properties.find((p) => p.name === 'operation')!.options ?? []) as Array<{ description?: string; action?: string }>) {
        assert.ok(option.description && option.action, 'each operation has a description and an action');
      }
      const manual = { ...agentNode, parameters: { descriptionType: 'manual', toolDescription: 'Finds people in a camera snapshot URL' } };
      assert.equal(NodeHelpers.getToolDescriptionForNode(manual, { description: tool }), 'Finds people in a camera snapshot URL');
    });

    it('takes the image URL from the model ($fromAI), runs, and answers compact JSON without image data', async () => {
      const parameters = {
        descriptionType: 'auto',
        ...saved,
        input: 'url',
        imageUrl: "={{ $fromAI('imageUrl', 'The http(s) URL of the image to analyse', 'string') }}",
      };
      // The schema n8n builds for the model from the $fromAI placeholders.
      const collected: FromAIArgument[] = [];
      traverseNodeParameters(parameters, collected);
      assert.deepEqual(
        collected.map((argument) => [argument.key, argument.type]),
        [['imageUrl', 'string']],
      );
      // (n8n puts these in a z.object(...).required(); each is checked here the same way.)
      const schema = generateZodSchema(collected[0]);
      const call = { imageUrl: schema.parse(`${imagesUrl}/person.jpg`) as string };
      assert.throws(() => schema.parse(undefined), 'the URL is required');
      assert.throws(() => schema.parse(42), 'and a string');
      // The call: n8n evaluates each $fromAI() to the model's argument and runs the node.
      const resolved = { ...parameters, imageUrl: call.imageUrl };
      const [out] = await node.execute.call(context({ parameters: resolved, credential }));
      const answer = JSON.stringify(out.map((item: INodeExecutionData) => item.json));
      assert.match(answer, /"class":"person"/);
      assert.ok(!hasBase64Text(out.map((item) => item.json)), 'no image data for the model to read');
      assert.ok(answer.length < 4_000, `compact (${answer.length} characters)`);
    });
  });
});
