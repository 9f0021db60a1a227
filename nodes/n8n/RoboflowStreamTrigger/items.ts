import type { INodeExecutionData } from 'n8n-workflow';
import { isModelRef, type PipelineStats, type StreamResult, type WorkflowRef } from '../../../lib';

/** True when a frame's outputs hold at least one prediction. */
export function hasDetections(data: Record<string, unknown> | null): boolean {
  if (!data) return false;
  return Object.values(data).some((value) => {
    const predictions = value && typeof value === 'object' ? (value as { predictions?: unknown }).predictions : undefined;
    return Array.isArray(predictions) && predictions.length > 0;
  });
}

/**
 * One item per analysed frame: its outputs, plus `frame` (metadata), `errors`, and what
 * ran (`workflowId`, or `model` for a trained model). `only` keeps just those outputs: a
 * self-hosted pipeline returns every output (its API has no output selection), so Data
 * Outputs is applied here.
 */
export function frameItem(result: StreamResult, workflow: WorkflowRef, only: string[] = []): INodeExecutionData {
  const data = result.data ?? {};
  const outputs = only.length > 0 ? Object.fromEntries(Object.entries(data).filter(([name]) => only.includes(name))) : data;
  return {
    json: {
      ...outputs,
      frame: result.metadata ?? null,
      errors: result.errors,
      ...(isModelRef(workflow) ? { model: workflow.model } : { workflowId: 'workflowId' in workflow ? workflow.workflowId : 'specification' }),
    },
  };
}

/** The server's report, small (an item's `pipeline` field, when asked): no raw report, no per-source list. */
export interface PipelineItemStats {
  pipelineId: string;
  sourceState: string | null;
  latencyMs: { frameDecoding: number | null; inference: number | null; endToEnd: number | null } | null;
  inferenceThroughput: number | null;
  sourceErrors: string[];
}

export function pipelineItemStats(stats: PipelineStats): PipelineItemStats {
  return { pipelineId: stats.pipelineId, sourceState: stats.sourceState, latencyMs: stats.latencyMs, inferenceThroughput: stats.inferenceThroughput, sourceErrors: stats.sourceErrors };
}

/** One line for n8n's debug log. */
export function describePipelineStats(stats: PipelineStats): string {
  const latency = stats.latencyMs?.endToEnd;
  const parts = [`source ${stats.sourceState ?? 'not described yet'}`];
  if (stats.inferenceThroughput !== null) parts.push(`${stats.inferenceThroughput} fps`);
  if (latency !== null && latency !== undefined) parts.push(`latency ${latency} ms`);
  if (stats.sourceErrors.length > 0) parts.push(`last source error: ${stats.sourceErrors[stats.sourceErrors.length - 1]}`);
  return `Roboflow pipeline ${stats.pipelineId}: ${parts.join(', ')}`;
}

/** The item after the last frame of a file. */
export function completionItem(frames: number, reason: string | null): INodeExecutionData {
  return { json: { complete: true, frames, terminationReason: reason } };
}

/** Which frames become items: optionally only those with detections, at most one per interval. */
export class FrameFilter {
  private lastEmitted = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly onlyDetections: boolean,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  accepts(result: StreamResult): boolean {
    if (this.onlyDetections && !hasDetections(result.data)) return false;
    const now = this.now();
    if (this.intervalMs > 0 && now - this.lastEmitted < this.intervalMs) return false;
    this.lastEmitted = now;
    return true;
  }
}
