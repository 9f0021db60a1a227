import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { roboflowApiTest } from '../shared/credential-test';
import { runInference } from './execute';

const workflowOnly = { operation: ['runWorkflow'] };
const modelOnly = { operation: ['runModel'] };

/**
 * One image in, one answer out: a Roboflow workflow or trained model on an image from a
 * binary field or a URL. Usable as an AI agent tool: its description says what goes in
 * (an image URL) and what comes out (JSON with the detections), and the JSON it returns
 * never carries image data.
 */
export class Roboflow implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Roboflow',
    name: 'roboflow',
    icon: { light: 'file:../../../icons/roboflow.svg', dark: 'file:../../../icons/roboflow.dark.svg' },
    group: ['transform'],
    version: 1,
    subtitle: '={{$parameter["operation"] === "runModel" ? "Model " + $parameter["model"] : "Workflow " + ($parameter["workflowId"] || "")}}',
    description:
      'Analyses an image with Roboflow computer vision: give it the http(s) URL of an image (or a binary image) and it returns JSON with what it sees (detected objects with class, confidence and box, counts, and any other outputs of a Roboflow workflow or trained model)',
    defaults: { name: 'Roboflow' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    usableAsTool: true,
    credentials: [{ name: 'roboflowApi', required: true, testedBy: 'roboflowApiTest' }],
    properties: [
      {
        displayName: 'Operation',
        name: 'operation',
        type: 'options',
        noDataExpression: true,
        options: [
          {
            name: 'Run Model on Image',
            value: 'runModel',
            action: 'Run a trained model on an image',
            description: 'Detect or classify objects in one image with a trained model (project/version); returns the predictions as JSON',
          },
          {
            name: 'Run Workflow on Image',
            value: 'runWorkflow',
            action: 'Run a workflow on an image',
            description: 'Run a Roboflow workflow on one image; returns its outputs (e.g. predictions, count) as JSON and any annotated image as binary',
          },
        ],
        default: 'runWorkflow',
      },
      {
        displayName: 'Workflow',
        name: 'workflowMode',
        type: 'options',
        noDataExpression: true,
        options: [
          { name: 'Saved Workflow', value: 'saved' },
          { name: 'Workflow Specification (JSON)', value: 'specification' },
        ],
        default: 'saved',
        displayOptions: { show: workflowOnly },
      },
      {
        displayName: 'Workspace',
        name: 'workspace',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'my-workspace',
        description: 'The workspace the workflow belongs to (from the workflow URL in the Roboflow app)',
        displayOptions: { show: { ...workflowOnly, workflowMode: ['saved'] } },
      },
      {
        displayName: 'Workflow ID',
        name: 'workflowId',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'my-workflow',
        description: 'The workflow ID from the Roboflow app (the workflow URL or its Deploy dialog)',
        displayOptions: { show: { ...workflowOnly, workflowMode: ['saved'] } },
      },
      {
        displayName: 'Specification',
        name: 'specification',
        type: 'json',
        default: '',
        required: true,
        description: 'A workflow definition ({"version", "inputs", "steps", "outputs"}) as exported from the Roboflow app',
        displayOptions: { show: { ...workflowOnly, workflowMode: ['specification'] } },
      },
      {
        displayName: 'Model',
        name: 'model',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'my-project/3',
        description: 'The trained model as project-ID/version',
        displayOptions: { show: modelOnly },
      },
      {
        displayName: 'Image',
        name: 'input',
        type: 'options',
        options: [
          { name: 'Binary File From the Input', value: 'binary' },
          { name: 'URL', value: 'url', description: "Roboflow's server fetches the image: the URL must be reachable from it" },
        ],
        default: 'binary',
      },
      {
        displayName: 'Input Binary Field',
        name: 'binaryPropertyName',
        type: 'string',
        default: 'data',
        required: true,
        description: 'The name of the binary field holding the image (JPEG, PNG or WebP, up to 20 MB)',
        displayOptions: { show: { input: ['binary'] } },
      },
      {
        displayName: 'Image URL',
        name: 'imageUrl',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'https://example.com/snapshot.jpg',
        description: 'The http(s) URL of the image to analyse (JPEG, PNG or WebP)',
        displayOptions: { show: { input: ['url'] } },
      },
      {
        displayName: 'Options',
        name: 'options',
        type: 'collection',
        placeholder: 'Add Option',
        default: {},
        options: [
          {
            displayName: 'Dry Run',
            name: 'disableSinks',
            type: 'boolean',
            default: false,
            description: "Whether to skip the workflow's sink blocks (email, webhooks, …) while testing",
            displayOptions: { show: { '/operation': ['runWorkflow'] } },
          },
          {
            displayName: 'Image Input Name',
            name: 'imageInput',
            type: 'string',
            default: 'image',
            description: "The name of the workflow's image input",
            displayOptions: { show: { '/operation': ['runWorkflow'] } },
          },
          {
            displayName: 'Minimum Confidence',
            name: 'confidence',
            type: 'number',
            typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
            default: 0.4,
            description: 'Detections below this confidence (0–1) are left out',
            displayOptions: { show: { '/operation': ['runModel'] } },
          },
          {
            displayName: 'Parameters',
            name: 'parameters',
            type: 'json',
            default: '{}',
            description: "Values for the workflow's parameters, as a JSON object",
            displayOptions: { show: { '/operation': ['runWorkflow'] } },
          },
          {
            displayName: 'Workflow Version',
            name: 'workflowVersion',
            type: 'string',
            default: '',
            description: 'Pin a version of the saved workflow (empty: the current one)',
            displayOptions: { show: { '/operation': ['runWorkflow'] } },
          },
        ],
      },
    ],
  };

  methods = { credentialTest: { roboflowApiTest } };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return [await runInference(this)];
  }
}
