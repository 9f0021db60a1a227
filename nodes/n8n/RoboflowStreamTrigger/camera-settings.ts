import type { IDataObject, ITriggerFunctions } from 'n8n-workflow';
import { RoboflowError, captureSettings, motionMask, type CaptureSettings, type MotionSettings } from '../../../lib';
import { nameList } from '../shared/parse';

/**
 * Who opens a camera: this n8n host (ffmpeg reads it and sends its frames on the
 * WebRTC video track: works for cameras on the user's own network) or Roboflow's server
 * (it pulls the URL, which it must be able to reach).
 */
export type CameraReader = 'local' | 'server';

/** Reading a camera on this host: ffmpeg's limits, the RTSP transport, and whether a file played as a camera loops. */
export interface LocalCapture {
  capture: CaptureSettings;
  transport: 'tcp' | 'udp';
  loop: boolean;
}

/** The motion gate: a Roboflow session only while something moves (or the workflow still detects something). */
export interface MotionGate {
  quietMs: number;
  preRollMs: number;
  holdClasses: string[];
  /** Share of the picture (0..1) that must change to count as motion. */
  areaThreshold: number;
  /** Polygons (shares of the picture, 0..1) where motion does not count: trees, a road. */
  mask: MotionSettings['mask'];
}

/** Longest pre-roll: the frames are held in memory while no session runs. */
const MAX_PRE_ROLL_S = 10;

/** Reads the camera options (a collection on the node) and checks them with the engine's own rules. */
export function readLocalCapture(context: ITriggerFunctions, loop: boolean): LocalCapture {
  const options = context.getNodeParameter('cameraOptions', {}) as IDataObject;
  const transport = String(options.rtspTransport ?? 'tcp');
  if (transport !== 'tcp' && transport !== 'udp') throw new RoboflowError('invalid-input', `RTSP Transport must be TCP or UDP (got ${transport})`);
  return {
    capture: captureSettings({ maxFps: options.maxFps, maxSize: options.maxSize, hwaccel: options.hwaccel }),
    transport,
    loop,
  };
}

function seconds(value: unknown, fallback: number, name: string, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > max) throw new RoboflowError('invalid-input', `${name} must be a number from 0 to ${max} (got ${String(value)})`);
  return parsed;
}

/** The motion gate's fields, or undefined when the node analyses every frame. */
export function readMotionGate(context: ITriggerFunctions): MotionGate | undefined {
  if (context.getNodeParameter('gate', 'none') !== 'motion') return undefined;
  return {
    quietMs: seconds(context.getNodeParameter('quietSeconds', 30), 30, 'Quiet Time', 86_400) * 1000,
    preRollMs: seconds(context.getNodeParameter('preRollSeconds', 2), 2, 'Pre-Roll', MAX_PRE_ROLL_S) * 1000,
    holdClasses: nameList(context.getNodeParameter('gateClasses', '')),
    areaThreshold: seconds(context.getNodeParameter('motionArea', 1), 1, 'Motion Area', 100) / 100,
    mask: motionMask(context.getNodeParameter('motionIgnore', ''), 'Ignore Motion In'),
  };
}
