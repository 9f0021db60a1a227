import type { INodeProperties } from 'n8n-workflow';

/**
 * The fields for cameras read on this n8n host (local capture), the motion gate and the
 * daily budget. n8n shows a field when every key of its displayOptions matches, so a
 * field for "read here" appears twice with exclusive conditions: for the sources always
 * read here (device, replay) and for a network camera with Read the Camera On: This n8n
 * Host. Same name, so one value.
 */

const v1to2 = { '@version': [1, 2] };
const v3 = { '@version': [{ _cnd: { gte: 3 } }] };
const alwaysHere = { source: ['device', 'replay'] };
const networkHere = { source: ['rtsp', 'mjpeg'], capture: ['local'] };
const liveSources = { source: ['rtsp', 'mjpeg', 'device', 'replay'] };

const byName = (a: { displayName: string }, b: { displayName: string }): number => a.displayName.localeCompare(b.displayName);

/** The same field for both "read here" conditions. */
function readHere(field: INodeProperties): INodeProperties[] {
  return [alwaysHere, networkHere].map((show) => ({ ...field, displayOptions: { show: { ...field.displayOptions?.show, ...show } } }));
}

const readerOptions = [
  {
    name: 'This N8n Host',
    value: 'local',
    description: "Works for cameras on your network (nothing is exposed): n8n opens the camera with ffmpeg and sends its frames to Roboflow; uses this machine's CPU and upload bandwidth",
  },
  {
    name: "Roboflow's Server",
    value: 'server',
    description: "Roboflow's server opens the camera URL, so it must reach it (from the internet, for Roboflow's hosted service)",
  },
];

/** Who opens a network camera. New nodes (version 3): this host; nodes saved before keep Roboflow's server. */
export const readerFields: INodeProperties[] = [
  {
    displayName: 'Read the Camera On',
    name: 'capture',
    type: 'options',
    noDataExpression: true,
    options: readerOptions,
    default: 'server',
    displayOptions: { show: { ...v1to2, source: ['rtsp', 'mjpeg'] } },
  },
  {
    displayName: 'Read the Camera On',
    name: 'capture',
    type: 'options',
    noDataExpression: true,
    options: readerOptions,
    default: 'local',
    displayOptions: { show: { ...v3, source: ['rtsp', 'mjpeg'] } },
  },
];

export const deviceFields: INodeProperties[] = [
  {
    displayName: 'Device',
    name: 'devicePath',
    type: 'string',
    default: '/dev/video0',
    required: true,
    placeholder: '/dev/video0',
    description: 'A USB or other V4L2 camera on the n8n machine (Linux). In Docker, pass the device to the container (--device /dev/video0).',
    displayOptions: { show: { source: ['device'] } },
  },
];

export const loopField: INodeProperties = {
  displayName: 'Loop',
  name: 'loop',
  type: 'boolean',
  default: true,
  description: 'Whether to start the video again at its end, as a camera that never stops (off: the trigger analyses nothing more once it has played)',
  displayOptions: { show: { source: ['replay'] } },
};

/** Its defaults are the engine's (DEFAULT_CAPTURE), written out as n8n's lint wants them (a test compares). */
const cameraOptionsField: INodeProperties = {
  displayName: 'Camera Options',
  name: 'cameraOptions',
  type: 'collection',
  placeholder: 'Add Option',
  default: {},
  options: [
    {
      displayName: 'Hardware Decoding',
      name: 'hwaccel',
      type: 'options',
      options: [
        { name: 'Auto (FFmpeg Chooses)', value: 'auto' },
        { name: 'CUDA (NVIDIA)', value: 'cuda' },
        { name: 'None (Software)', value: 'none' },
        { name: 'Quick Sync (Intel)', value: 'qsv' },
        { name: 'V4L2 M2M (Raspberry Pi)', value: 'v4l2m2m' },
        { name: 'VAAPI (Intel/AMD on Linux)', value: 'vaapi' },
      ],
      default: 'none',
      description: 'Decode on the GPU or a video block; falls back to software, with one warning in the log, when the device refuses',
    },
    {
      displayName: 'Max Frame Rate',
      name: 'maxFps',
      type: 'number',
      typeOptions: { minValue: 0.1, maxValue: 60 },
      default: 10,
      description: "Frames per second sent to Roboflow at most (the camera's own rate when lower); models rarely need more than 10",
    },
    {
      displayName: 'Max Size (Pixels)',
      name: 'maxSize',
      type: 'number',
      typeOptions: { minValue: 64, maxValue: 7680 },
      default: 1280,
      description: 'Longest side of the frames sent, aspect kept (never scaled up). 1280 is plenty for most models and about 1–1.5 Mbit/s of upload at 10 fps.',
    },
    {
      displayName: 'RTSP Transport',
      name: 'rtspTransport',
      type: 'options',
      options: [
        { name: 'TCP (Reliable)', value: 'tcp' },
        { name: 'UDP (Lower Delay)', value: 'udp' },
      ],
      default: 'tcp',
      description: 'How an RTSP camera sends its video: TCP works through most networks; UDP can lose frames',
    },
  ].sort(byName) as INodeProperties[],
};

export const cameraOptionFields: INodeProperties[] = readHere(cameraOptionsField);

const gateField: INodeProperties = {
  displayName: 'Analyse',
  name: 'gate',
  type: 'options',
  noDataExpression: true,
  options: [
    { name: 'Everything (Session Always Open)', value: 'none', description: 'A Roboflow session runs (and is billed) while the camera runs' },
    {
      name: 'Only on Motion (Motion Gate)',
      value: 'motion',
      description: 'No session while nothing moves: it opens on motion (with the seconds before it), stays while there is motion or detections, and closes after the quiet time',
    },
  ],
  default: 'none',
};

/** The motion gate: only where this host decodes the frames (it measures motion on them). */
export const gateFields: INodeProperties[] = [
  ...readHere(gateField),
  {
    displayName: 'Quiet Time (Seconds)',
    name: 'quietSeconds',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: 30,
    description: 'The session closes (and billing stops) after this long without motion or detections',
    displayOptions: { show: { gate: ['motion'] } },
  },
  {
    displayName: 'Pre-Roll (Seconds)',
    name: 'preRollSeconds',
    type: 'number',
    typeOptions: { minValue: 0, maxValue: 10 },
    default: 2,
    description: 'Frames from this long before the session was ready are sent first, so the person who set off the motion is analysed too',
    displayOptions: { show: { gate: ['motion'] } },
  },
  {
    displayName: 'Motion Area (%)',
    name: 'motionArea',
    type: 'number',
    typeOptions: { minValue: 0.1, maxValue: 100 },
    default: 1,
    description: 'Share of the picture that must change to count as motion; raise it when leaves or rain open sessions',
    displayOptions: { show: { gate: ['motion'] } },
  },
  {
    displayName: 'Ignore Motion In',
    name: 'motionIgnore',
    type: 'json',
    default: '',
    placeholder: '[[[0,0],[0.3,0],[0.3,1],[0,1]]]',
    description:
      'Areas where motion does not count (swaying trees, a busy road): a list of polygons of [x, y] points in shares of the picture, 0 to 1 from the top left. Empty: none. Detections there still keep a session open.',
    displayOptions: { show: { gate: ['motion'] } },
  },
  {
    displayName: 'Keep Open For (Classes)',
    name: 'gateClasses',
    type: 'string',
    default: '',
    placeholder: 'person, car',
    description: 'Detections of these classes keep the session open, comma-separated (empty: any class). Name them when the camera always sees something still (a parked car, a door).',
    displayOptions: { show: { gate: ['motion'] } },
  },
];

/** A daily limit on streamed minutes, for live sources (a file ends by itself). */
export const budgetFields: INodeProperties[] = [
  {
    displayName: 'Daily Limit',
    name: 'dailyLimit',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'None', value: 'none' },
      { name: 'Stream Minutes', value: 'minutes', description: 'At most this many minutes of open Roboflow sessions per day (local time)' },
      { name: 'Credits', value: 'credits', description: "At most this many credits per day, converted to stream minutes with the plan's published rate" },
    ],
    default: 'none',
    description: 'Stops the Roboflow session for the rest of the day at the limit (one error to the error workflow, a line in the log), and starts again after midnight',
    displayOptions: { show: liveSources },
  },
  {
    displayName: 'Minutes per Day',
    name: 'dailyMinutes',
    type: 'number',
    typeOptions: { minValue: 1 },
    default: 240,
    displayOptions: { show: { ...liveSources, dailyLimit: ['minutes'] } },
  },
  {
    displayName: 'Credits per Day',
    name: 'dailyCredits',
    type: 'number',
    typeOptions: { minValue: 0.01, numberPrecision: 2 },
    default: 3,
    displayOptions: { show: { ...liveSources, dailyLimit: ['credits'] } },
  },
  {
    displayName: 'Minutes per Credit',
    name: 'minutesPerCredit',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: 0,
    description:
      "Stream minutes one credit buys. 0: Roboflow's published rate for the credential's GPU plan (small 80, medium 60, large 30). Used for the limit in credits and the estimate in each item's stats.",
    displayOptions: { show: { ...liveSources, dailyLimit: ['minutes', 'credits'] } },
  },
];
