/**
 * Plane geometry in image coordinates (pixels, x to the right, y down), for zones and
 * lines. Boxes are given by their centre and size, as Roboflow reports detections.
 */

export type Point = readonly [number, number];

export interface Box {
  /** Centre. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where on a box an object "is" for zones and lines: its centre, or the middle of its bottom edge (the feet of a person, the wheels of a car). */
export type Anchor = 'center' | 'bottom';

export function anchorOf(box: Box, anchor: Anchor): Point {
  return anchor === 'bottom' ? [box.x, box.y + box.height / 2] : [box.x, box.y];
}

/** Intersection over union of two boxes (0 when they do not overlap). */
export function iou(a: Box, b: Box): number {
  const left = Math.max(a.x - a.width / 2, b.x - b.width / 2);
  const right = Math.min(a.x + a.width / 2, b.x + b.width / 2);
  const top = Math.max(a.y - a.height / 2, b.y - b.height / 2);
  const bottom = Math.min(a.y + a.height / 2, b.y + b.height / 2);
  if (right <= left || bottom <= top) return 0;
  const overlap = (right - left) * (bottom - top);
  return overlap / (a.width * a.height + b.width * b.height - overlap);
}

/** Even-odd rule (a ray to the right crosses the edges an odd number of times). */
export function insidePolygon(point: Point, polygon: readonly Point[]): boolean {
  const [px, py] = point;
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Which side of the directed line a→b the point is on: > 0 one side, < 0 the other, 0 on it. */
function side(a: Point, b: Point, p: Point): number {
  return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

/** Whether the move from `from` to `to` crosses the segment a–b (touching and leaving it again on the same side is no crossing). */
export function crosses(a: Point, b: Point, from: Point, to: Point): boolean {
  const s1 = side(a, b, from);
  const s2 = side(a, b, to);
  // Strictly from one side to the other; a point resting on the line has not crossed yet.
  if (!(s1 < 0 && s2 > 0) && !(s1 > 0 && s2 < 0)) return false;
  const s3 = side(from, to, a);
  const s4 = side(from, to, b);
  return (s3 <= 0 && s4 >= 0) || (s3 >= 0 && s4 <= 0);
}

/** A crossing's direction as a person reads it on screen: across a mostly vertical line, left-to-right or right-to-left; across a mostly horizontal one, top-to-bottom or bottom-to-top. */
export type CrossingDirection = 'left-to-right' | 'right-to-left' | 'top-to-bottom' | 'bottom-to-top';

export function crossingDirection(a: Point, b: Point, from: Point, to: Point): CrossingDirection {
  const vertical = Math.abs(b[1] - a[1]) >= Math.abs(b[0] - a[0]);
  if (vertical) {
    // Compare the two ends' horizontal position relative to the line at their height.
    const lineX = (y: number): number => (b[1] === a[1] ? a[0] : a[0] + ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]));
    return from[0] - lineX(from[1]) < to[0] - lineX(to[1]) ? 'left-to-right' : 'right-to-left';
  }
  const lineY = (x: number): number => a[1] + ((b[1] - a[1]) * (x - a[0])) / (b[0] - a[0]);
  return from[1] - lineY(from[0]) < to[1] - lineY(to[0]) ? 'top-to-bottom' : 'bottom-to-top';
}
