import type { Node, NodeAPI, NodeDef } from 'node-red';
import { translator } from './common/i18n';
import { migrate, type Migration } from './common/migrate';
import { reportError } from './common/report';
import { ObjectsController, type ObjectsProperties } from './objects/controller';

const migrations: Migration[] = [
  (config) => ({
    predictions: 'predictions',
    anchor: 'bottom',
    clock: 'arrival',
    leaveAfter: 1,
    updateEvery: 0,
    classes: '',
    minConfidence: 0,
    areas: '',
    alertClasses: '',
    alertConfidence: '',
    alertDwell: 0,
    alertZones: '',
    alertRate: 0,
    snapshot: true,
    ...config,
  }),
];

export = function register(RED: NodeAPI): void {
  const t = translator(RED, 'roboflow-objects');
  function RoboflowObjects(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const config = migrate<ObjectsProperties>(def as unknown as Record<string, unknown>, migrations);
    let controller: ObjectsController | undefined;
    try {
      controller = new ObjectsController(this, config, t);
    } catch (error) {
      // A configuration the user must fix (zones JSON, alert zones): say so, drop input.
      const reported = reportError(this, error);
      // Said once on the status and in the log; messages are dropped until it is fixed (not one error per frame).
      void reported;
      this.on('input', (_msg, _send, done) => done());
      return;
    }
    this.on('input', (msg, send, done) => void controller.handle(msg, send, done));
    this.on('close', (done: () => void) => {
      controller.close();
      done();
    });
  }
  RED.nodes.registerType('roboflow-objects', RoboflowObjects);
};
