import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mjpegInputArgs, requireFfmpeg, rtspInputArgs } from '../../lib/media/ffmpeg';
import { redact, registerUrlPassword } from '../../lib/redact';
import type { CompiledWorkflow } from '../workflows/engine';
import { LocalPipeline, type PipelineInput } from './pipeline';

/**
 * The table of running pipelines, as Roboflow's pipeline manager keeps it: a health
 * check every second terminates pipelines whose sources are all ENDED or ERROR, and
 * pipelines nobody consumed from within their consumption timeout.
 */
export class PipelineManager {
  private readonly pipelines = new Map<string, LocalPipeline>();
  private readonly timer: NodeJS.Timeout;
  /** Ids of pipelines that ended, with why (for logs and the local inspection route). */
  readonly ended: Array<{ id: string; reason: string; endedAt: string }> = [];

  constructor(
    private readonly cameraFiles: () => string[],
    private readonly log: (line: string) => void,
  ) {
    this.timer = setInterval(() => this.healthCheck(), 1_000);
    this.timer.unref();
  }

  /** What a video_reference names on this server: a device index (the N-th camera), a camera or video URL, or a file path. */
  resolveSource(reference: string | number): PipelineInput {
    if (typeof reference === 'number') {
      const file = this.cameraFiles()[reference];
      if (!file)
        return { reference: String(reference), isFile: false, error: `Cannot connect to video source under reference: ${reference} (this server's devices: 0..${this.cameraFiles().length - 1})` };
      return { reference: String(reference), input: file, inputArgs: ['-stream_loop', '-1'], nativeRate: true, isFile: false };
    }
    const shown = redact(reference);
    if (/^rtsps?:\/\//i.test(reference)) {
      registerUrlPassword(reference);
      return { reference: shown, input: reference, inputArgs: [...rtspInputArgs(requireFfmpeg()), '-probesize', '65536', '-analyzeduration', '500000'], isFile: false };
    }
    if (/^https?:\/\//i.test(reference)) {
      registerUrlPassword(reference);
      const mjpeg = /\.(mjpe?g)(\?|$)/i.test(reference);
      return { reference: shown, input: reference, inputArgs: mjpeg ? mjpegInputArgs() : [], isFile: false };
    }
    if (existsSync(reference) && statSync(reference).isFile()) return { reference, input: reference, isFile: true };
    return { reference, isFile: true, error: `Cannot open video file: ${reference} (no such file on the server)` };
  }

  start(config: {
    compiled: CompiledWorkflow;
    parameters: Record<string, unknown>;
    source: PipelineInput;
    maxFps?: number;
    resultsBufferSize: number;
    consumptionTimeoutSec: number | null;
  }): LocalPipeline {
    const id = randomUUID();
    const pipeline = new LocalPipeline({ id, ...config }, this.log, (ended, reason) => {
      this.pipelines.delete(ended.config.id);
      this.ended.push({ id: ended.config.id, reason, endedAt: new Date().toISOString() });
      if (this.ended.length > 100) this.ended.shift();
    });
    this.pipelines.set(id, pipeline);
    pipeline.start();
    this.log(`pipeline ${id} started (${config.source.reference})`);
    return pipeline;
  }

  get(id: string): LocalPipeline | undefined {
    return this.pipelines.get(id);
  }

  ids(): string[] {
    return [...this.pipelines.keys()];
  }

  closeAll(): void {
    clearInterval(this.timer);
    for (const pipeline of [...this.pipelines.values()]) pipeline.terminate('server shutting down');
  }

  private healthCheck(): void {
    for (const pipeline of [...this.pipelines.values()]) {
      if (pipeline.depleted) pipeline.terminate(`all sources ${pipeline.sourceState}`);
      else if (pipeline.consumptionExpired) pipeline.terminate(`nothing consumed for ${pipeline.config.consumptionTimeoutSec} s (consumption timeout)`);
    }
  }
}
