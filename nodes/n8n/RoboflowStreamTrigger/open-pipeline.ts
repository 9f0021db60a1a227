import { PipelineStream, type Logger, type PipelineHandle, type RoboflowConnection } from '../../../lib';
import type { PipelineSettings } from './pipeline-settings';
import type { StreamHandle } from './open-stream';
import type { TriggerSettings } from './settings';

/**
 * A self-hosted InferencePipeline as the trigger's stream (not started yet): the server
 * opens the video and runs the workflow, the stream polls its results. `close`
 * terminates the pipeline on the server, `detach` leaves it running for the next
 * activation to re-attach to (`resume`); whichever comes first is the one that happens.
 */
export async function openPipeline(settings: TriggerSettings, pipeline: PipelineSettings, connection: RoboflowConnection, logger: Logger, resume?: PipelineHandle): Promise<StreamHandle> {
  const stream = new PipelineStream({
    connection,
    workflow: settings.workflow,
    source: pipeline.source,
    imageInput: settings.imageInput,
    parameters: settings.parameters,
    ...(settings.disableSinks ? { disableSinks: true } : {}),
    ...(pipeline.maxFps ? { maxFps: pipeline.maxFps } : {}),
    pollIntervalMs: pipeline.pollIntervalMs,
    consumptionTimeout: pipeline.consumptionTimeout,
    ...(pipeline.excludedFields ? { excludedFields: pipeline.excludedFields } : {}),
    ...(resume ? { resume } : {}),
    logger,
  });
  let ending: Promise<void> | undefined;
  return {
    stream,
    pipeline: stream,
    close: () => (ending ??= stream.stop()),
    detach: () => (ending ??= stream.detach()),
  };
}
