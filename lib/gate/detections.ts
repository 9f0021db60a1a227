/**
 * True when a frame's workflow outputs hold at least one detection (`{predictions: [...]}`
 * under any output), of one of `classes` when given: what keeps a gated session open, and what the n8n trigger's
 * "only frames with detections" filter keeps.
 */
export function hasDetections(data: Record<string, unknown> | null | undefined, classes: readonly string[] = []): boolean {
  if (!data) return false;
  return Object.values(data).some((value) => {
    const predictions = value && typeof value === 'object' ? (value as { predictions?: unknown }).predictions : undefined;
    if (!Array.isArray(predictions) || predictions.length === 0) return false;
    return classes.length === 0 || predictions.some((prediction) => classes.includes(String((prediction as { class?: unknown } | null)?.class)));
  });
}
