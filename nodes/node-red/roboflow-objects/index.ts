import type { NodeAPI } from 'node-red';
import { registerNode } from '../common/register';
import { ObjectsController, type ObjectsProperties } from './controller';
import { migrations } from './migrations';

export = function register(RED: NodeAPI): void {
  const running = new Map<string, ObjectsController>();

  // The editor draws the zones and lines over the camera's latest frame: the picture a
  // deployed node last received (a Stream node's returned video, or a rendered image).
  RED.httpAdmin.get('/roboflow-objects/:id/frame', RED.auth.needsPermission('roboflow-objects.read'), (req, res) => {
    const frame = running.get(String(req.params.id))?.preview;
    if (!frame) {
      res.status(404).json({ message: "No frame yet: deploy, and wire the Stream node's video output (or a rendered image output) into this node" });
      return;
    }
    const png = frame[0] === 0x89 && frame[1] === 0x50;
    res
      .set('content-type', png ? 'image/png' : 'image/jpeg')
      .set('cache-control', 'no-store')
      .send(frame);
  });

  registerNode<ObjectsProperties>(RED, {
    type: 'roboflow-objects',
    migrations,
    // A configuration the user must fix (zones JSON, alert zones) throws here: said once, not per frame.
    create: ({ node, config, t }) => {
      const controller = new ObjectsController(node, config, t);
      running.set(node.id, controller);
      return {
        handle: (msg, send) => controller.handle(msg, send),
        close: () => {
          controller.close();
          if (running.get(node.id) === controller) running.delete(node.id);
        },
      };
    },
  });
};
