import type { IDataObject } from 'n8n-workflow';
import { readPipelineHandle, type Logger, type PipelineHandle } from '../../../lib';

/**
 * Where a pipeline trigger keeps its pipeline's handle: the workflow's static data
 * (n8n keeps it per workflow and per node name), key `pipeline`. After an n8n restart
 * the trigger re-attaches to the pipeline it names, when the server still runs it for
 * the same settings, instead of starting a second one.
 *
 * n8n writes static data to its database when an activation has finished and each time
 * the trigger calls `emit` (before the execution), only when a property of the node's
 * static data was set; never at deactivation or shutdown (see budget.ts). So every write
 * sets a new object, and `saved()` notes the points where the database caught up: a
 * handle written since (a pipeline replaced while no item was emitted) is not in the
 * database, and a restarted n8n could not find it.
 */
export class PipelineMemory {
  private savedId: string | undefined;

  constructor(
    private readonly data: IDataObject,
    private readonly logger: Logger,
  ) {
    this.savedId = this.currentId();
  }

  /** The handle an earlier activation kept, when it is one (anything else is ignored, with a note). */
  read(): PipelineHandle | undefined {
    if (this.data.pipeline === undefined) return undefined;
    try {
      return readPipelineHandle(this.data.pipeline);
    } catch (error) {
      this.logger.warn(`Roboflow pipeline: the kept pipeline handle is unusable (${(error as Error).message}); a new pipeline is started`);
      return undefined;
    }
  }

  write(handle: PipelineHandle): void {
    this.data.pipeline = { pipelineId: handle.pipelineId, serverUrl: handle.serverUrl, fingerprint: handle.fingerprint, startedAt: handle.startedAt };
  }

  /** The pipeline ended (stopped, replaced, gone from the server): not to be re-attached. */
  forget(pipelineId: string): void {
    if (this.currentId() === pipelineId) delete this.data.pipeline;
  }

  /** n8n has just written the static data (an activation finished, or an emit). */
  saved(): void {
    this.savedId = this.currentId();
  }

  /** Whether an n8n started afresh would find this pipeline in the database. */
  isSaved(pipelineId: string | undefined): boolean {
    return pipelineId !== undefined && pipelineId === this.savedId && this.currentId() === pipelineId;
  }

  private currentId(): string | undefined {
    const value = this.data.pipeline;
    const id = value && typeof value === 'object' ? (value as { pipelineId?: unknown }).pipelineId : undefined;
    return typeof id === 'string' ? id : undefined;
  }
}
