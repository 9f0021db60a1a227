import type { NodeAPI } from 'node-red';
import { registerNode } from '../common/register';
import { StreamController, type StreamCredentials, type StreamProperties } from './controller';
import { migrations } from './migrations';

export = function register(RED: NodeAPI): void {
  registerNode<StreamProperties, StreamCredentials>(RED, {
    type: 'roboflow-stream',
    migrations,
    // The camera's login lives in Node-RED's credential store, never in the flow.
    credentials: { cameraUser: { type: 'text' }, cameraPassword: { type: 'password' } },
    usesConfig: true,
    create: ({ RED: runtime, node, config, t, credentials }) => new StreamController(runtime, node, config, t, credentials),
  });
};
