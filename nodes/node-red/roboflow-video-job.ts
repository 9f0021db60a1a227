import type { Node, NodeAPI, NodeDef } from 'node-red';
import { translator } from './common/i18n';
import { migrate, type Migration } from './common/migrate';
import { VideoJobController, type VideoJobProperties } from './video-job/controller';

const migrations: Migration[] = [
  (config) => ({ target: 'workflow', workspaceType: 'str', workflowType: 'str', model: '', fps: 5, pollInterval: '', ...config }),
];

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'roboflow-video-job');
  function RoboflowVideoJob(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const config = migrate<VideoJobProperties>(def as unknown as Record<string, unknown>, migrations);
    const controller = new VideoJobController(RED, this, config, t);
    this.on('input', (msg, _send, done) => void controller.handle(msg, done));
    this.on('close', (removed: boolean, done: () => void) => {
      void controller.close(removed).finally(done);
    });
    void controller.init();
  }
  RED.nodes.registerType('roboflow-video-job', RoboflowVideoJob);
};
