import type { NodeAPI } from 'node-red';
import { registerNode } from '../common/register';
import { VisionEventController, type VisionEventProperties } from './controller';
import { migrations } from './migrations';

export = function register(RED: NodeAPI): void {
  registerNode<VisionEventProperties>(RED, {
    type: 'roboflow-vision-event',
    migrations,
    usesConfig: true,
    create: ({ RED: runtime, node, config, t }) => new VisionEventController(runtime, node, config, t),
  });
};
