import type { Node, NodeAPI, NodeDef } from 'node-red';
import { translator } from './common/i18n';
import { migrate, type Migration } from './common/migrate';
import { WorkflowController, type WorkflowProperties } from './workflow/controller';

/** Version 1 is the first release: fill in what older or hand-written flows lack. */
const migrations: Migration[] = [
  (config) => ({
    workspaceType: 'str',
    workflowType: 'str',
    workflowSpec: '',
    model: '',
    imageInput: 'image',
    parameters: '',
    workflowVersion: '',
    disableSinks: false,
    concurrency: 4,
    queueSize: 50,
    filter: false,
    classes: '',
    minConfidence: 0.5,
    ...config,
  }),
];

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'roboflow-workflow');
  function RoboflowWorkflow(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const config = migrate<WorkflowProperties>(def as unknown as Record<string, unknown>, migrations);
    const controller = new WorkflowController(RED, this, config, t);
    this.on('input', (msg, send, done) => controller.handle(msg, send, done));
    this.on('close', (removed: boolean, done: () => void) => {
      void controller.close(removed).finally(done);
    });
    controller.init();
  }
  RED.nodes.registerType('roboflow-workflow', RoboflowWorkflow);
};
