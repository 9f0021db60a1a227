import type { INodeProperties } from 'n8n-workflow';
import { FILE_ACCESS_RULE } from '../shared/files';
import { budgetFields, cameraOptionFields, deviceFields, gateFields, loopField, readerFields } from './properties-camera';
import { modelFields, pipelineFields, pipelineOnlyOptions, streamTypeField, webrtcOnly } from './properties-pipeline';

const v1 = { '@version': [1] };
const v2 = { '@version': [{ _cnd: { gte: 2 } }] };

const emitOptions = [
  { name: 'Every Analysed Frame', value: 'frames', description: 'One execution per frame the workflow analysed (many executions: mind the executions list)' },
  { name: 'Only Frames With Detections', value: 'detections', description: 'Frames where a detection output has at least one prediction' },
  {
    name: 'Object Events',
    value: 'objects',
    description: 'One item per object event (a person arrives, leaves, enters a zone, crosses a line) instead of one per frame',
  },
];

/** Options of every kind of run: a WebRTC stream or a self-hosted pipeline. */
const sharedOptions: INodeProperties[] = [
  {
    displayName: 'Dry Run (Disable Sinks)',
    name: 'disableSinks',
    type: 'boolean',
    default: false,
    description: "Whether to skip the workflow's sink blocks (emails, webhooks, uploads) while you try it out",
  },
  { displayName: 'Image Input', name: 'imageInput', type: 'string', default: 'image', description: 'The workflow input that receives the video frames' },
  {
    displayName: 'Items in a Manual Run',
    name: 'manualItems',
    type: 'number',
    typeOptions: { minValue: 1, maxValue: 100 },
    default: 1,
    description: 'How many items "Test step" waits for before returning them and closing the stream',
  },
  { displayName: 'Parameters', name: 'parameters', type: 'json', default: '{}', description: 'Values for the workflow parameters' },
  {
    displayName: 'Workflow Version ID',
    name: 'workflowVersionId',
    type: 'string',
    default: '',
    description: 'Run this saved version of the workflow instead of its latest (saved workflows only)',
  },
];

/** Options of a WebRTC stream only (a self-hosted pipeline has no session to time out, and analyses as it can). */
const webrtcOptions: INodeProperties[] = [
  {
    displayName: 'Processing',
    name: 'realtime',
    type: 'options',
    options: [
      { name: 'Default (Files: Every Frame; Cameras: Realtime)', value: 'auto' },
      { name: 'Realtime (Drop Frames When Behind)', value: 'realtime' },
      { name: 'Every Frame (Paced)', value: 'every' },
    ],
    default: 'auto',
  },
  {
    displayName: 'Processing Timeout (Seconds)',
    name: 'processingTimeout',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: 3600,
    description:
      "How long one Roboflow session may run before the server ends it (billing stops then too). A live camera's session renews itself when it runs out: the trigger starts a new one and keeps watching. 0: the service maximum (7 days).",
  },
];

/** Version 1 kept the interval among the options (not set: 0, every frame). */
const throttleOption: INodeProperties = {
  displayName: 'Minimum Seconds Between Items',
  name: 'throttleSeconds',
  type: 'number',
  typeOptions: { minValue: 0 },
  default: 0,
  description: 'Skip frames that arrive sooner than this after the last one emitted (0: emit all)',
};

const byName = (a: INodeProperties, b: INodeProperties): number => a.displayName.localeCompare(b.displayName);

/** Where a WebRTC stream's video comes from, and who reads a camera (hidden for a self-hosted pipeline, which has fields of its own). */
const webrtcSource: INodeProperties[] = [
  {
    displayName: 'Source',
    name: 'source',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'MJPEG Camera', value: 'mjpeg', description: 'An HTTP(S) MJPEG stream' },
      { name: 'Network Camera (RTSP, RTMP, HLS)', value: 'rtsp', description: 'An IP camera or stream URL: rtsp:// or rtsps://; read on this n8n host also rtmp:// and HLS (http(s)://….m3u8)' },
      { name: 'USB Camera (V4L2 Device)', value: 'device', description: 'A camera plugged into the n8n machine (Linux: /dev/video0), read on this host' },
      { name: 'Video File', value: 'file', description: 'A file on the n8n machine, uploaded and analysed frame by frame' },
      { name: 'Video File as a Live Camera', value: 'replay', description: 'A file on the n8n machine played at its own rate as if it were a camera, read on this host (for trying a workflow)' },
      { name: 'Video URL', value: 'videoUrl', description: 'A video downloaded by n8n, then analysed frame by frame' },
    ],
    default: 'rtsp',
  },
  ...readerFields,
  {
    displayName: 'Camera URL',
    name: 'url',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'rtsp://192.168.1.20:554/stream1',
    description:
      "The camera's address: rtsp://, rtsps://, rtmp://, an HLS playlist or an MJPEG http(s):// URL. Read on this n8n host, it only has to be reachable from here; read by Roboflow's server, from there. Keep the user name and password out of the URL: the URL is saved in the workflow; choose Camera Login: Credential instead.",
    displayOptions: { show: { source: ['rtsp', 'mjpeg'] } },
  },
];

/** A WebRTC stream's device, files and their camera options. */
const webrtcFiles: INodeProperties[] = [
  ...deviceFields,
  {
    displayName: 'File Path',
    name: 'filePath',
    type: 'string',
    default: '',
    required: true,
    placeholder: '~/.n8n-files/clip.mp4',
    description: `A video file on the n8n machine (~ is the home folder of the user running n8n). ${FILE_ACCESS_RULE}.`,
    displayOptions: { show: { source: ['file', 'replay'] } },
  },
  loopField,
  ...cameraOptionFields,
  {
    displayName: 'Video URL',
    name: 'videoUrl',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'https://example.com/clip.mp4',
    displayOptions: { show: { source: ['videoUrl'] } },
  },
];

/** The node's fields; each version's defaults must match V1_DEFAULTS, V2_DEFAULTS and V3_DEFAULTS in settings.ts (a test checks). */
export const properties: INodeProperties[] = [
  streamTypeField,
  ...webrtcOnly(webrtcSource),
  ...pipelineFields,
  {
    displayName: 'Camera Login',
    name: 'cameraAuth',
    type: 'options',
    options: [
      { name: 'None', value: 'none', description: 'The camera needs no login' },
      { name: 'Credential', value: 'credential', description: 'User name and password from a Roboflow Camera Login credential, put into the URL only when the stream starts' },
    ],
    default: 'none',
    displayOptions: { show: { source: ['rtsp', 'mjpeg'] } },
  },
  ...webrtcOnly(webrtcFiles),
  {
    displayName: 'Workflow',
    name: 'workflowMode',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'Saved Workflow', value: 'saved' },
      { name: 'Workflow Specification (JSON)', value: 'specification' },
      { name: 'Trained Model', value: 'model', description: 'A model trained on Roboflow (project/version), run as a one-step workflow: items hold its predictions' },
    ],
    default: 'saved',
  },
  ...modelFields,
  {
    displayName: 'Workspace',
    name: 'workspace',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'my-workspace',
    description: 'Your Roboflow workspace ID: the part after app.roboflow.com/ in the address of the Roboflow app',
    displayOptions: { show: { workflowMode: ['saved'] } },
  },
  {
    displayName: 'Workflow ID',
    name: 'workflowId',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'my-workflow',
    description: 'The workflow ID from the Roboflow app (the workflow URL or its Deploy dialog)',
    displayOptions: { show: { workflowMode: ['saved'] } },
  },
  {
    displayName: 'Specification',
    name: 'specification',
    type: 'json',
    default: '{}',
    required: true,
    description: 'A workflow definition, as exported from the Roboflow app',
    displayOptions: { show: { workflowMode: ['specification'] } },
  },
  {
    displayName: 'Data Outputs',
    name: 'dataOutputs',
    type: 'string',
    default: '',
    placeholder: 'predictions, count',
    description: 'Workflow outputs to receive, comma-separated. Empty: every non-image output (a self-hosted pipeline: every output; leave images out with its option Outputs the Server Leaves Out).',
    displayOptions: { hide: { workflowMode: ['model'] } },
  },
  {
    displayName: 'Emit',
    name: 'emit',
    type: 'options',
    noDataExpression: true,
    options: emitOptions,
    default: 'frames',
    displayOptions: { show: v1 },
  },
  {
    displayName: 'Emit',
    name: 'emit',
    type: 'options',
    noDataExpression: true,
    options: emitOptions,
    default: 'detections',
    description: 'Which frames start an execution. Default: only frames with detections, so an empty scene starts none.',
    displayOptions: { show: v2 },
  },
  {
    displayName: 'Minimum Seconds Between Items',
    name: 'throttleSeconds',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: 1,
    description: 'At most one item per this many seconds (default 1: at most one execution a second); frames in between are skipped. 0: every frame.',
    displayOptions: { show: { ...v2, emit: ['frames', 'detections'] } },
  },
  {
    displayName: 'Object Events to Emit',
    name: 'objectEvents',
    type: 'multiOptions',
    displayOptions: { show: { emit: ['objects'] } },
    options: [
      { name: 'Enter (An Object Appears)', value: 'enter' },
      { name: 'Leave (Gone for the Leave Time)', value: 'leave' },
      { name: 'Line Cross', value: 'line-cross' },
      { name: 'Update (Throttled)', value: 'update' },
      { name: 'Zone Enter', value: 'zone-enter' },
      { name: 'Zone Leave', value: 'zone-leave' },
    ],
    default: ['enter'],
    description: 'Which events start an execution',
  },
  {
    displayName: 'Detections Output',
    name: 'detectionsOutput',
    type: 'string',
    displayOptions: { show: { emit: ['objects'] } },
    default: 'predictions',
    description: "The workflow output holding the detections (with tracker_id when the workflow tracks; else the node's own tracker follows the objects)",
  },
  {
    displayName: 'Zones and Lines',
    name: 'zonesAndLines',
    type: 'json',
    displayOptions: { show: { emit: ['objects'] } },
    default: '{"zones": [], "lines": []}',
    description: 'Polygons and lines in image pixels: {"zones": [{"name": "door", "polygon": [[x,y], ...]}], "lines": [{"name": "gate", "from": [x,y], "to": [x,y]}]}',
  },
  {
    displayName: 'Classes',
    name: 'objectClasses',
    type: 'string',
    displayOptions: { show: { emit: ['objects'] } },
    default: '',
    placeholder: 'person, car',
    description: 'Follow only these classes, comma-separated (empty: all)',
  },
  {
    displayName: 'Gone After (Seconds)',
    name: 'leaveAfterSeconds',
    type: 'number',
    typeOptions: { minValue: 0 },
    displayOptions: { show: { emit: ['objects'] } },
    default: 1,
    description: 'An object unseen this long has left; a detection missing for a few frames is not a new arrival',
  },
  ...webrtcOnly([...gateFields, ...budgetFields]),
  ...webrtcOnly([optionsField(v1, [...sharedOptions, ...webrtcOptions, throttleOption]), optionsField(v2, [...sharedOptions, ...webrtcOptions])]),
  optionsField({ ...v1, streamType: ['pipeline'] }, [...sharedOptions, ...pipelineOnlyOptions, throttleOption]),
  optionsField({ ...v2, streamType: ['pipeline'] }, [...sharedOptions, ...pipelineOnlyOptions]),
];

/** The Options collection of a version and a kind of run (same name: one value). */
function optionsField(show: NonNullable<INodeProperties['displayOptions']>['show'], options: INodeProperties[]): INodeProperties {
  return { displayName: 'Options', name: 'options', type: 'collection', placeholder: 'Add Option', default: {}, options: [...options].sort(byName), displayOptions: { show } };
}
