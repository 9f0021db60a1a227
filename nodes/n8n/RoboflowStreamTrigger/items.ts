import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { StreamResult, WorkflowRef } from '../../../lib';

/** True when a frame's outputs hold at least one prediction. */
export function hasDetections(data: Record<string, unknown> | null): boolean {
  if (!data) return false;
  return Object.values(data).some((value) => {
    const predictions = value && typeof value === 'object' ? (value as { predictions?: unknown }).predictions : undefined;
    return Array.isArray(predictions) && predictions.length > 0;
  });
}

/** One item per analysed frame: its outputs, plus `frame` (metadata) and `errors`. */
export function frameItem(result: StreamResult, workflow: WorkflowRef): INodeExecutionData {
  return {
    json: {
      ...(result.data ?? {}),
      frame: (result.metadata ?? null) as IDataObject | null,
      errors: result.errors,
      workflowId: 'workflowId' in workflow ? workflow.workflowId : 'specification',
    } as IDataObject,
  };
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
