import type { Node, NodeAPI, NodeDef } from 'node-red';
import { translator } from './common/i18n';
import { migrate, type Migration } from './common/migrate';
import { StreamController, type StreamCredentials, type StreamProperties } from './stream/controller';

/**
 * Version 1 is the first release: fill in what older or hand-written flows lack.
 * Version 2: the session's processing timeout (3600 s: what the service used when
 * nothing was sent), a pinned workflow version, and dry runs.
 * Version 3: local capture (a flow saved before it keeps Roboflow's server reading its
 * camera, `capture: server`; new nodes read cameras on this machine), and the gate
 * (`none` for old flows: the session runs all the time, as before).
 */
const migrations: Migration[] = [
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
];

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'roboflow-stream');
  function RoboflowStream(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const config = migrate<StreamProperties>(def as unknown as Record<string, unknown>, migrations);
    const controller = new StreamController(RED, this, config, t, (this.credentials ?? {}) as StreamCredentials);
    this.on('input', (msg, _send, done) => void controller.handle(msg, done));
    this.on('close', (_removed: boolean, done: () => void) => {
      void controller.close().finally(() => {
        this.status({});
        done();
      });
    });
    void controller.init();
  }
  RED.nodes.registerType('roboflow-stream', RoboflowStream, {
    // The camera's login lives in Node-RED's credential store, never in the flow.
    credentials: { cameraUser: { type: 'text' }, cameraPassword: { type: 'password' } },
  });
};
