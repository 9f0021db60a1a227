import type { NodeAPI } from 'node-red';
import { registerNode } from '../common/register';
import { WorkflowController, type WorkflowProperties } from './controller';
import { migrations } from './migrations';

export = function register(RED: NodeAPI): void {
  registerNode<WorkflowProperties>(RED, {
    type: 'roboflow-workflow',
    migrations,
    usesConfig: true,
    create: ({ RED: runtime, node, config, t }) => new WorkflowController(runtime, node, config, t),
  });
};
