import type { NodeAPI } from 'node-red';
import { registerNode } from '../common/register';
import { VideoJobController, type VideoJobProperties } from './controller';
import { migrations } from './migrations';

export = function register(RED: NodeAPI): void {
  registerNode<VideoJobProperties>(RED, {
    type: 'roboflow-video-job',
    migrations,
    usesConfig: true,
    create: ({ RED: runtime, node, config, t }) => new VideoJobController(runtime, node, config, t),
  });
};
