import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';

/**
 * Where a node keeps what must survive a restart (video job handles, queued Vision
 * Events): `<userDir>/roboflow/<kind>/<node id>`. Node-RED's default context store lives
 * in memory and is lost on restart, so these are plain files in the user directory.
 */
export function nodeStorageDir(RED: NodeAPI, kind: string, nodeId: string): string {
  const userDir = (RED.settings as { userDir?: string }).userDir ?? join(tmpdir(), 'node-red-roboflow');
  return join(userDir, 'roboflow', kind, nodeId.replace(/[^\w.-]/g, '_'));
}
