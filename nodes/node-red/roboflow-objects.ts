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
  const running = new Map<string, ObjectsController>();

  // The editor draws the zones and lines over the camera's latest frame: the picture a
  // deployed node last received (a Stream node's returned video, or a rendered image).
  RED.httpAdmin.get('/roboflow-objects/:id/frame', RED.auth.needsPermission('roboflow-objects.read'), (req, res) => {
    const frame = running.get(String(req.params.id))?.preview;
    if (!frame) {
      res.status(404).json({ message: 'No frame yet: deploy, and wire the Stream node\'s video output (or a rendered image output) into this node' });
      return;
    }
    const png = frame[0] === 0x89 && frame[1] === 0x50;
    res.set('content-type', png ? 'image/png' : 'image/jpeg').set('cache-control', 'no-store').send(frame);
  });

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
    running.set(this.id, controller);
    this.on('input', (msg, send, done) => void controller.handle(msg, send, done));
    this.on('close', (done: () => void) => {
      controller.close();
      if (running.get(this.id) === controller) running.delete(this.id);
      done();
    });
  }
  RED.nodes.registerType('roboflow-objects', RoboflowObjects);
};
