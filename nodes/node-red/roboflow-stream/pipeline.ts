import { join } from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { JsonFile, PipelineClient, isRoboflowError, readPipelineHandle, type HttpClient, type PipelineHandle, type RoboflowConnection } from '../../../lib';
import { engineLogger } from '../common/report';
import { nodeStorageDir } from '../common/storage';

/**
 * Where a Stream node keeps the handle of its self-hosted pipeline
 * (`<userDir>/roboflow/pipelines/<node id>/pipeline.json`): plain data, no secret. It
 * lets a restarted Node-RED re-attach to the pipeline instead of starting a second one.
 */
export function pipelineStore(RED: NodeAPI, node: Node): JsonFile<PipelineHandle> {
  return new JsonFile(join(nodeStorageDir(RED, 'pipelines', node.id), 'pipeline.json'), {
    validate: (value) => readPipelineHandle(value),
    logger: engineLogger(node),
  });
}

/**
 * Terminates the pipeline an earlier configuration of this node left on the server (the
 * node no longer runs one, or will not re-attach to it), and forgets its handle. A
 * pipeline on another server than the config's now cannot be reached with its key: it
 * ends by itself when nobody reads it (the consumption timeout).
 */
export async function terminateLeftover(store: JsonFile<PipelineHandle>, connection: RoboflowConnection | undefined, http: HttpClient | undefined, node: Node): Promise<void> {
  const handle = await store.load();
  if (!handle) return;
  if (handle.serverUrl === connection?.serverUrl) {
    const client = new PipelineClient({ connection, ...(http ? { http } : {}), logger: engineLogger(node) });
    try {
      await client.terminate(handle.pipelineId);
      node.log(`Terminated pipeline ${handle.pipelineId}, left by an earlier configuration of this node`);
    } catch (error) {
      // 400/404: the server has no such pipeline any more. Anything else: it ends by itself.
      if (!isRoboflowError(error) || (error.status !== 400 && error.status !== 404))
        node.warn(`Could not terminate pipeline ${handle.pipelineId} left by an earlier configuration: ${(error as Error).message}`);
    } finally {
      await client.close(); // closes only a client of its own
    }
  }
  await store.remove();
}
