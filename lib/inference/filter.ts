import type { Prediction } from './answer';

/** "Is there a person?": detections of these classes (any class when empty) at or above this confidence. */
export interface DetectionFilter {
  classes: string[];
  /** 0..1. */
  minConfidence: number;
}

/** The detections that pass the filter (class names compared without case). */
export function filterDetections(predictions: Prediction[] | undefined, filter: DetectionFilter): Prediction[] {
  if (!predictions) return [];
  const classes = new Set(filter.classes.map((name) => name.trim().toLowerCase()).filter(Boolean));
  return predictions.filter((prediction) => (classes.size === 0 || classes.has(String(prediction.class).toLowerCase())) && prediction.confidence >= filter.minConfidence);
}
