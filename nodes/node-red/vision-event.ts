import type { Node, NodeAPI, NodeDef } from 'node-red';
import { translator } from './common/i18n';
import { migrate, type Migration } from './common/migrate';
import { VisionEventController, type VisionEventProperties } from './vision-event/controller';

const migrations: Migration[] = [
  (config) => ({ useCaseType: 'str', eventType: 'custom', deviceId: '', streamId: '', cooldown: 1, createUseCase: false, ...config }),
];

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'vision-event');
  function VisionEvent(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const config = migrate<VisionEventProperties>(def as unknown as Record<string, unknown>, migrations);
    const controller = new VisionEventController(RED, this, config, t);
    this.on('input', (msg, send, done) => void controller.handle(msg, send, done));
    this.on('close', (removed: boolean, done: () => void) => {
      void controller.close(removed).finally(done);
    });
    void controller.init();
  }
  RED.nodes.registerType('vision-event', VisionEvent);
};
