export { anchorOf, crosses, crossingDirection, insidePolygon, iou, type Anchor, type Box, type CrossingDirection, type Point } from './geometry';
export { ObjectTracker, predict, type Candidate, type Detection, type Track, type TrackerOptions, type TrackerWork } from './tracker';
export { ObjectEvents, type FrameWork, type LineSpec, type ObjectCounts, type ObjectEvent, type ObjectEventsOptions, type ObjectState, type ZoneSpec } from './object-events';
export { AlertPolicy, type AlertDecision, type AlertPolicyOptions } from './alert-policy';
export { renderSnapshot, type Snapshot, type SnapshotBox, type SnapshotOptions } from './snapshot';
export { describeEvent, describeObject, detectionsIn, videoTimeMs, type FoundDetections, type TimeFormat } from './results';
export { parseZonesAndLines, type ZonesAndLines } from './areas';
