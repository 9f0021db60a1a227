import type { IDataObject, ITriggerFunctions } from 'n8n-workflow';
import { RoboflowError, nameList, videoReference, withCameraLogin, type CameraLogin, type PipelineSource } from '../../../lib';

/**
 * "Run With: Self-Hosted Inference Pipeline": a self-hosted Inference server (started
 * with ENABLE_STREAM_API=True) opens the video itself and runs the workflow; the trigger
 * polls its results over HTTP (docs/protocol.md §7). What the server opens: a camera or
 * video URL (`rtsp`, the same value as the WebRTC source so the URL and Camera Login
 * fields are shared), a file on the server's disk, or a device index on the server.
 */
export type PipelineSourceKind = 'rtsp' | 'serverFile' | 'serverDevice';

export interface PipelineSettings {
  /** What the server opens (a URL with the camera login put in: it goes to the server only). */
  source: PipelineSource;
  /** Frames per second the server analyses at most (unset: every frame of the source). */
  maxFps?: number;
  pollIntervalMs: number;
  /** Seconds the server keeps an unread pipeline running (null: until terminated). */
  consumptionTimeout: number | null;
  /** Outputs the server leaves out of the results (e.g. an image output nobody reads). */
  excludedFields?: string[];
  /** Adds the server's latest report to each item as `pipeline`. */
  includeStats: boolean;
}

export const DEFAULT_POLL_MS = 200;
export const DEFAULT_CONSUMPTION_TIMEOUT_S = 300;

export function usesPipeline(context: ITriggerFunctions): boolean {
  return context.getNodeParameter('streamType', 'webrtc') === 'pipeline';
}

function number(value: unknown, what: string, min: number): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min) throw new RoboflowError('invalid-input', `${what} must be ${min} or more (got ${String(value)})`);
  return parsed;
}

function readSource(context: ITriggerFunctions, kind: PipelineSourceKind, cameraLogin?: CameraLogin): { target: string; source: PipelineSource } {
  if (kind === 'serverDevice') {
    const index = Number(context.getNodeParameter('deviceIndex', 0));
    const source: PipelineSource = { kind: 'device', index };
    videoReference(source);
    return { target: String(index), source };
  }
  if (kind === 'serverFile') {
    const path = String(context.getNodeParameter('serverFilePath', '')).trim();
    if (!path) throw new RoboflowError('invalid-input', 'Set the path of the video file on the Inference server');
    return { target: path, source: { kind: 'file', path } };
  }
  if (kind !== 'rtsp') throw new RoboflowError('invalid-input', `A self-hosted pipeline reads a URL, a file or a device on the server: choose one of them as the Source (got ${String(kind)})`);
  const url = String(context.getNodeParameter('url', '')).trim();
  if (!url) throw new RoboflowError('invalid-input', 'Set the camera or video URL the server opens');
  // Checked before the login goes in, so a bad URL is named without it.
  videoReference({ kind: 'url', url });
  return { target: url, source: { kind: 'url', url: withCameraLogin(url, cameraLogin) } };
}

/** The pipeline's settings from the node's fields and its Options; throws a RoboflowError saying what to fix. */
export function readPipeline(context: ITriggerFunctions, options: IDataObject, cameraLogin?: CameraLogin): { kind: PipelineSourceKind; target: string; pipeline: PipelineSettings } {
  const kind = context.getNodeParameter('source', 'rtsp') as PipelineSourceKind;
  const { target, source } = readSource(context, kind, cameraLogin);
  const maxFps = options.maxFps === undefined ? 0 : number(options.maxFps, 'Max Frame Rate', 0);
  const consumption = options.consumptionTimeout === undefined ? DEFAULT_CONSUMPTION_TIMEOUT_S : Math.round(number(options.consumptionTimeout, 'Keep Running Unread', 0));
  const excluded = nameList(options.excludedOutputs ?? '');
  return {
    kind,
    target,
    pipeline: {
      source,
      ...(maxFps > 0 ? { maxFps } : {}),
      pollIntervalMs: options.pollIntervalMs === undefined ? DEFAULT_POLL_MS : Math.round(number(options.pollIntervalMs, 'Poll Interval', 20)),
      consumptionTimeout: consumption === 0 ? null : consumption,
      ...(excluded.length > 0 ? { excludedFields: excluded } : {}),
      includeStats: options.pipelineStats === true,
    },
  };
}
