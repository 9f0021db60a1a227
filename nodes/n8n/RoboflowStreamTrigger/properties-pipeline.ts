import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_CONSUMPTION_TIMEOUT_S, DEFAULT_POLL_MS } from './pipeline-settings';

/**
 * The fields of "Run With: Self-Hosted Inference Pipeline" and of "Workflow: Trained
 * Model". A workflow saved before these existed has neither field: its Run With is the
 * default (a WebRTC stream) and its Workflow what it was, so nothing changes for it.
 */

const pipelineOnly = { streamType: ['pipeline'] };

/** The fields of a WebRTC stream (the camera read here, the session's budget, ...): hidden for a pipeline. */
export function webrtcOnly(fields: INodeProperties[]): INodeProperties[] {
  return fields.map((field) => ({ ...field, displayOptions: { ...field.displayOptions, hide: { ...field.displayOptions?.hide, streamType: ['pipeline'] } } }));
}

export const streamTypeField: INodeProperties = {
  displayName: 'Run With',
  name: 'streamType',
  type: 'options',
  noDataExpression: true,
  options: [
    {
      name: 'Roboflow Stream (WebRTC)',
      value: 'webrtc',
      description: "Roboflow's hosted service (or a self-hosted Inference server) analyses the video over WebRTC: a camera read on this n8n host, a camera URL the server pulls, or a file",
    },
    {
      name: 'Self-Hosted Inference Pipeline (HTTP)',
      value: 'pipeline',
      description:
        'A self-hosted Inference server (started with ENABLE_STREAM_API=True) opens the camera itself and runs the workflow; n8n polls the results over HTTP. No WebRTC, no UDP; the pipeline keeps running while n8n restarts.',
    },
  ],
  default: 'webrtc',
};

export const pipelineFields: INodeProperties[] = [
  {
    displayName:
      "The pipeline runs on the Inference server at the credential's Server URL. That server checks no API key on its pipeline routes: anyone who reaches it can list, read and stop pipelines. Keep it on a trusted network.",
    name: 'pipelineNotice',
    type: 'notice',
    default: '',
    displayOptions: { show: pipelineOnly },
  },
  {
    displayName: 'Source',
    name: 'source',
    type: 'options',
    noDataExpression: true,
    options: [
      {
        name: 'Camera or Video URL (Opened by the Server)',
        value: 'rtsp',
        description: 'An rtsp://, rtsps://, http(s)://, rtmp://, udp:// or tcp:// URL: it must be reachable from the Inference server',
      },
      { name: 'Camera Device on the Server', value: 'serverDevice', description: 'A camera plugged into the Inference server, by index (0: the first)' },
      { name: 'Video File on the Server', value: 'serverFile', description: "A file on the Inference server's disk; the trigger emits a completion item at its end" },
    ],
    default: 'rtsp',
    displayOptions: { show: pipelineOnly },
  },
  {
    displayName: 'Camera URL',
    name: 'url',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'rtsp://192.168.1.20:554/stream1',
    description: 'The camera or video the Inference server opens. Keep the user name and password out of the URL (it is saved in the workflow): choose Camera Login: Credential instead.',
    displayOptions: { show: { ...pipelineOnly, source: ['rtsp'] } },
  },
  {
    displayName: 'File Path on the Server',
    name: 'serverFilePath',
    type: 'string',
    default: '',
    required: true,
    placeholder: '/videos/clip.mp4',
    description: "A video file on the Inference server's disk (not on the n8n machine)",
    displayOptions: { show: { ...pipelineOnly, source: ['serverFile'] } },
  },
  {
    displayName: 'Device Index',
    name: 'deviceIndex',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: 0,
    description: 'The camera on the Inference server: 0 for the first (/dev/video0), 1 for the next',
    displayOptions: { show: { ...pipelineOnly, source: ['serverDevice'] } },
  },
];

/** Options of a self-hosted pipeline only. */
export const pipelineOnlyOptions: INodeProperties[] = [
  {
    displayName: 'Include Pipeline Stats',
    name: 'pipelineStats',
    type: 'boolean',
    default: false,
    description: "Whether to add the server's latest report to each item as `pipeline` (source state, latencies, frames per second, source errors). It is in n8n's log at debug level either way.",
  },
  {
    displayName: 'Keep Running Unread (Seconds)',
    name: 'consumptionTimeout',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: DEFAULT_CONSUMPTION_TIMEOUT_S,
    description:
      'How long the server keeps the pipeline running while nothing reads its results (n8n stopped or restarting): n8n re-attaches to it when it is back within this time. 0: until terminated (unpublishing the workflow terminates it).',
  },
  {
    displayName: 'Max Frame Rate',
    name: 'maxFps',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: 0,
    description: 'Frames per second the server analyses at most. 0: as many as the source gives and the server can.',
  },
  {
    displayName: 'Outputs the Server Leaves Out',
    name: 'excludedOutputs',
    type: 'string',
    default: '',
    placeholder: 'output_image',
    description: 'Workflow outputs not sent to n8n at all, comma-separated (e.g. an image output nobody reads: it would travel as base64 with every frame)',
  },
  {
    displayName: 'Poll Interval (Milliseconds)',
    name: 'pollIntervalMs',
    type: 'number',
    typeOptions: { minValue: 20 },
    default: DEFAULT_POLL_MS,
    description: 'Time between requests for new results; each takes everything the server has buffered',
  },
];

export const modelFields: INodeProperties[] = [
  {
    displayName: 'Model',
    name: 'model',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'my-project/3',
    description: 'The trained model as project-ID/version (from its Deploy page in the Roboflow app)',
    displayOptions: { show: { workflowMode: ['model'] } },
  },
  {
    displayName: 'Model Options',
    name: 'modelOptions',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: { show: { workflowMode: ['model'] } },
    options: [
      {
        displayName: 'Classes',
        name: 'classes',
        type: 'string',
        default: '',
        placeholder: 'person, car',
        description: 'Only these classes, comma-separated (detection, segmentation and keypoint models)',
      },
      {
        displayName: 'Confidence',
        name: 'confidence',
        type: 'number',
        typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
        default: 0.4,
        description: "Predictions below this confidence (0 to 1) are left out. Not set: the model block's default.",
      },
      {
        displayName: 'Task Type',
        name: 'taskType',
        type: 'options',
        options: [
          { name: 'Classification', value: 'classification' },
          { name: 'Instance Segmentation', value: 'instance-segmentation' },
          { name: 'Keypoint Detection', value: 'keypoint-detection' },
          { name: 'Look It Up', value: 'auto', description: "Asks Roboflow's API (the credential's API URL) what the model does" },
          { name: 'Multi-Label Classification', value: 'multi-label-classification' },
          { name: 'Object Detection', value: 'object-detection' },
          { name: 'Semantic Segmentation', value: 'semantic-segmentation' },
        ],
        default: 'auto',
        description: "What the model does. Set it when the server cannot reach Roboflow's API to look it up (a self-hosted server offline).",
      },
    ],
  },
];
