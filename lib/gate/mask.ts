import { RoboflowError } from '../errors';
import type { Point } from '../objects/geometry';

/** What a user is shown when a mask is not a list of polygons, so they can fix it in one go. */
const SHAPE = 'it must be a list of polygons, each at least 3 [x, y] points from 0 to 1 (shares of the picture’s width and height), e.g. [[[0,0],[0.3,0],[0.3,1],[0,1]]]';

/**
 * The motion gate's ignored areas as a user types them (JSON text, or already parsed):
 * polygons in shares of the picture (0..1), so one mask fits whatever size the frames
 * are sent at. Empty text is no mask; anything else that is not such a list says what
 * to fix, naming the field (`what`) and the first polygon or point that is wrong.
 */
export function motionMask(value: unknown, what: string): Point[][] {
  if (value === undefined || value === null || value === '') return [];
  let parsed: unknown = value;
  if (typeof value === 'string') {
    if (!value.trim()) return [];
    let problem: string | undefined;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem) throw new RoboflowError('invalid-input', `${what} is not valid JSON: ${problem}; ${SHAPE}`);
  }
  // "<field> is not valid: <what is wrong>; <the shape>": the status ring shows the part before the colon.
  const wrong = (where: string): RoboflowError => new RoboflowError('invalid-input', `${what} is not valid: ${where}; ${SHAPE}`);
  if (!Array.isArray(parsed)) throw wrong(`got ${parsed === null ? 'null' : typeof parsed}`);
  return parsed.map((polygon: unknown, index) => {
    if (!Array.isArray(polygon) || polygon.length < 3) throw wrong(`polygon ${index + 1} is not a list of at least 3 points`);
    return polygon.map((point: unknown, at): Point => {
      const inRange = (coordinate: unknown): coordinate is number => typeof coordinate === 'number' && Number.isFinite(coordinate) && coordinate >= 0 && coordinate <= 1;
      if (!Array.isArray(point) || point.length !== 2 || !inRange(point[0]) || !inRange(point[1])) {
        throw wrong(`point ${at + 1} of polygon ${index + 1} is ${JSON.stringify(point) ?? String(point)}`);
      }
      return [point[0], point[1]];
    });
  });
}
