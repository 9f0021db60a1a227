import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { runVideoJobs } from './execute';
import { FILE_ACCESS_RULE } from '../shared/files';
import { roboflowApiTest } from '../shared/credential-test';

const processOrSubmit = { operation: ['process', 'submit'] };
const jobLookup = { operation: ['getStatus', 'getResults'] };
const byId = { ...jobLookup, jobSource: ['id'] };
const v1 = { '@version': [1] };
const v2 = { '@version': [{ _cnd: { gte: 2 } }] };

const apiOptions = [
  {
    name: 'Auto (Batch Processing, Else Video Inference)',
    value: 'auto',
    description:
      "Batch Processing when the workspace's plan has it; Video Inference (/videoinfer) otherwise, and for a pinned workflow version or a dry run. Items say which ran (generation), and why (fallback).",
  },
  { name: 'Batch Processing', value: 'batch', description: "Roboflow's Batch Processing API: the video is staged, a job runs the workflow on it, results come back as CSV/JSONL" },
  { name: 'Video Inference', value: 'videoinfer', description: 'The /videoinfer workflow job of the Roboflow docs (workflows saved before version 2 of this node use it)' },
];

const jobSourceOptions = [
  { name: "From the Input Item (Submit Job's Output)", value: 'item', description: 'The job that Submit Job returned, passed on unchanged (e.g. through a Wait node)' },
  { name: 'By Job ID', value: 'id' },
];

export class RoboflowVideoJob implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Roboflow Video Job',
    name: 'roboflowVideoJob',
    icon: { light: 'file:../../../icons/roboflow.svg', dark: 'file:../../../icons/roboflow.dark.svg' },
    group: ['transform'],
    version: [1, 2],
    defaultVersion: 2,
    subtitle: '={{$parameter["operation"]}}',
    description: 'Processes recorded videos with a Roboflow workflow or model as batch jobs',
    defaults: { name: 'Roboflow Video Job' },
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
          { name: 'Process Video', value: 'process', action: 'Process a video and wait for the results', description: 'Upload, submit, wait for the job, and return every analysed frame' },
          { name: 'Submit Job', value: 'submit', action: 'Submit a video job', description: 'Upload and submit; wait with a Wait node, then get the results' },
          { name: 'Get Job Status', value: 'getStatus', action: 'Get the status of a video job' },
          { name: 'Get Job Results', value: 'getResults', action: 'Get the results of a finished video job' },
        ],
        default: 'process',
      },
      {
        displayName: 'Run',
        name: 'target',
        type: 'options',
        noDataExpression: true,
        options: [
          { name: 'A Workspace Workflow', value: 'workflow' },
          { name: 'A Trained Model', value: 'model' },
        ],
        default: 'workflow',
        displayOptions: { show: processOrSubmit },
      },
      {
        displayName: 'Workspace',
        name: 'workspace',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'my-workspace',
        displayOptions: { show: { ...processOrSubmit, target: ['workflow'] } },
      },
      {
        displayName: 'Workflow ID',
        name: 'workflowId',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'my-workflow',
        displayOptions: { show: { ...processOrSubmit, target: ['workflow'] } },
      },
      {
        displayName: 'API',
        name: 'api',
        type: 'options',
        noDataExpression: true,
        options: apiOptions,
        default: 'videoinfer',
        description: 'Which Roboflow API runs the workflow over the video',
        displayOptions: { show: { ...v1, ...processOrSubmit, target: ['workflow'] } },
      },
      {
        displayName: 'API',
        name: 'api',
        type: 'options',
        noDataExpression: true,
        options: apiOptions,
        default: 'auto',
        description: 'Which Roboflow API runs the workflow over the video',
        displayOptions: { show: { ...v2, ...processOrSubmit, target: ['workflow'] } },
      },
      {
        displayName: 'Model',
        name: 'model',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'my-project/3',
        description: 'The model as project-ID/version',
        displayOptions: { show: { ...processOrSubmit, target: ['model'] } },
      },
      {
        displayName: 'Video',
        name: 'input',
        type: 'options',
        options: [
          { name: 'Binary File From the Input', value: 'binary' },
          { name: 'Local File', value: 'file', description: 'A path on the machine running n8n; a missing or unreadable file is an error' },
          { name: 'URL', value: 'url' },
        ],
        default: 'binary',
        displayOptions: { show: processOrSubmit },
      },
      {
        displayName: 'Input Binary Field',
        name: 'binaryPropertyName',
        type: 'string',
        default: 'data',
        required: true,
        description: 'The name of the binary field holding the video',
        displayOptions: { show: { ...processOrSubmit, input: ['binary'] } },
      },
      {
        displayName: 'File Path',
        name: 'filePath',
        type: 'string',
        default: '',
        required: true,
        placeholder: '~/.n8n-files/clip.mp4',
        description: `A video file on the n8n machine (~ is the home folder of the user running n8n). ${FILE_ACCESS_RULE}.`,
        displayOptions: { show: { ...processOrSubmit, input: ['file'] } },
      },
      {
        displayName: 'Video URL',
        name: 'videoUrl',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'https://example.com/clip.mp4',
        displayOptions: { show: { ...processOrSubmit, input: ['url'] } },
      },
      {
        displayName: 'Frames per Second',
        name: 'fps',
        type: 'number',
        typeOptions: { minValue: 1, maxValue: 120 },
        default: 5,
        description: "How many frames per second to analyse (at most the video's own rate)",
        displayOptions: { show: processOrSubmit },
      },
      {
        displayName: 'Workflow Options',
        name: 'workflowOptions',
        type: 'collection',
        placeholder: 'Add Option',
        default: {},
        displayOptions: { show: { ...processOrSubmit, target: ['workflow'] } },
        options: [
          {
            displayName: 'Dry Run (Disable Sinks)',
            name: 'disableSinks',
            type: 'boolean',
            default: false,
            description: "Whether to skip the workflow's sink blocks (emails, webhooks, uploads) while you try it out. /videoinfer only: Batch Processing cannot, so Auto uses /videoinfer.",
          },
          {
            displayName: 'Machine Type',
            name: 'machineType',
            type: 'options',
            options: [
              { name: 'CPU', value: 'cpu' },
              { name: 'GPU', value: 'gpu' },
            ],
            default: 'gpu',
            description: 'Batch Processing only: the machines the job runs on',
          },
          {
            displayName: 'Notifications URL',
            name: 'notificationsUrl',
            type: 'string',
            default: '',
            placeholder: 'https://n8n.example.com/webhook/roboflow-jobs',
            description: "Batch Processing only: Roboflow POSTs the job's progress and end here (e.g. an n8n Webhook node, instead of waiting)",
          },
          {
            displayName: 'Workflow Version ID',
            name: 'workflowVersionId',
            type: 'string',
            default: '',
            description: 'Run this saved version of the workflow instead of its latest. /videoinfer only: Batch Processing runs the latest, so Auto uses /videoinfer.',
          },
        ],
      },
      {
        displayName: 'Job',
        name: 'jobSource',
        type: 'options',
        noDataExpression: true,
        options: jobSourceOptions,
        default: 'id',
        displayOptions: { show: { ...v1, ...jobLookup } },
      },
      {
        displayName: 'Job',
        name: 'jobSource',
        type: 'options',
        noDataExpression: true,
        options: jobSourceOptions,
        default: 'item',
        displayOptions: { show: { ...v2, ...jobLookup } },
      },
      {
        displayName: 'Job ID',
        name: 'jobId',
        type: 'string',
        default: '',
        required: true,
        displayOptions: { show: byId },
      },
      {
        displayName: 'Job Type',
        name: 'generation',
        type: 'options',
        options: [
          { name: 'Workflow Job (Video Inference)', value: 'workflow' },
          { name: 'Workflow Job (Batch Processing)', value: 'batch' },
          { name: 'Model Job', value: 'model' },
        ],
        default: 'workflow',
        description: "How the job was submitted: Submit Job's output says it in `generation`",
        displayOptions: { show: byId },
      },
      {
        displayName: 'Workspace',
        name: 'workspace',
        type: 'string',
        default: '',
        required: true,
        placeholder: 'my-workspace',
        description: 'The workspace the Batch Processing job runs in',
        displayOptions: { show: { ...byId, generation: ['batch'] } },
      },
      {
        displayName: 'Options',
        name: 'options',
        type: 'collection',
        placeholder: 'Add Option',
        default: {},
        displayOptions: { show: { operation: ['process', 'getResults'] } },
        options: [
          {
            displayName: 'One Item per Frame',
            name: 'itemPerFrame',
            type: 'boolean',
            default: false,
            description: 'Whether to return one item per analysed frame instead of one item holding every frame',
          },
          {
            displayName: 'Poll Interval (Seconds)',
            name: 'pollSeconds',
            type: 'number',
            typeOptions: { minValue: 1 },
            default: 0,
            description: 'Seconds between status checks; 0: 60 on Roboflow (it limits status checks), 2 elsewhere',
          },
          {
            displayName: 'Timeout (Minutes)',
            name: 'timeoutMinutes',
            type: 'number',
            typeOptions: { minValue: 1 },
            default: 60,
            description: 'Give up waiting for the job after this long',
          },
        ],
      },
    ],
  };

  methods = { credentialTest: { roboflowApiTest } };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return [await runVideoJobs(this)];
  }
}
