import type { Migration } from '../common/migrate';

/**
 * Version 1 is the first release: fill in what older or hand-written flows lack.
 * Version 2: the session's processing timeout (3600 s: what the service used when
 * nothing was sent), a pinned workflow version, and dry runs.
 * Version 3: local capture (a flow saved before it keeps Roboflow's server reading its
 * camera, `capture: server`; new nodes read cameras on this machine), and the gate
 * (`none` for old flows: the session runs all the time, as before).
 * Version 4: a trained model instead of a workflow (empty: a workflow, as before); the
 * capture choice gains `pipeline` (a self-hosted InferencePipeline), which no old flow uses.
 * Version 5: areas of the picture where the motion gate ignores motion (empty: none, as before).
 */
export const migrations: Migration[] = [
  (config) => ({
    workspaceType: 'str',
    workflowType: 'str',
    urlType: 'str',
    imageInput: 'image',
    dataOutputs: '',
    streamOutputs: '',
    parameters: '',
    workflowSpec: '',
    source: typeof config.url === 'string' && /^rtsps?:/i.test(config.url) ? 'rtsp' : 'frames',
    realtime: '',
    start: 'deploy',
    ...config,
  }),
  (config) => ({ processingTimeout: 3600, workflowVersion: '', disableSinks: false, ...config }),
  (config) => ({
    capture: 'server',
    maxFps: 10,
    maxSize: 1280,
    hwaccel: 'none',
    rtspTransport: 'tcp',
    loop: true,
    gate: 'none',
    quietTime: 30,
    preRoll: 2,
    gateClasses: '',
    motionArea: 1,
    ...config,
  }),
  (config) => ({ model: '', modelConfidence: '', modelClasses: '', ...config }),
  (config) => ({ motionIgnore: '', ...config }),
];
