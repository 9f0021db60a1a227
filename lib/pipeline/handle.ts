import { createHmac } from 'node:crypto';
import type { RoboflowConnection } from '../config';
import { fields } from '../persist';
import type { WorkflowRef } from '../stream/signaling';
import type { PipelineSource } from './client';

/**
 * What a node keeps (as JSON, in its user directory) to find its pipeline again after a
 * restart: plain data, no secret. `fingerprint` tells whether a running pipeline was
 * started for the node's present configuration.
 */
export interface PipelineHandle {
  pipelineId: string;
  serverUrl: string;
  fingerprint: string;
  startedAt: string;
}

/** The settings a pipeline is started with that make it this node's pipeline. */
export interface PipelineIdentity {
  workflow: WorkflowRef;
  source: PipelineSource;
  imageInput?: string;
  parameters?: Record<string, unknown>;
  disableSinks?: boolean;
  maxFps?: number;
  resultsBufferSize?: number;
}

/** Object keys sorted, so equal settings give equal text whatever order they were written in. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, stable((value as Record<string, unknown>)[key])]),
    );
  return value;
}

/**
 * A keyed hash of the pipeline's settings (camera login included): equal for equal
 * settings under the same key and server, different when anything changed (a new key
 * too: the old pipeline holds the old one). Keyed with the API key, so the stored value
 * reveals nothing about a camera password, even to someone who guesses the rest.
 */
export function pipelineFingerprint(connection: RoboflowConnection, identity: PipelineIdentity): string {
  return createHmac('sha256', connection.apiKey)
    .update(JSON.stringify(stable({ server: connection.serverUrl, ...identity })))
    .digest('hex')
    .slice(0, 32);
}

/** Reads a persisted pipeline handle back (a Validator piece for JsonFile); throws an Error naming what is wrong. */
export function readPipelineHandle(value: unknown, what = 'pipeline'): PipelineHandle {
  const handle = fields.object(value, what);
  const serverUrl = fields.text(handle.serverUrl, `${what}.serverUrl`, { nonEmpty: true });
  if (!/^https?:\/\//i.test(serverUrl)) throw new Error(`${what}.serverUrl is not an http(s) URL`);
  const fingerprint = fields.text(handle.fingerprint, `${what}.fingerprint`, { nonEmpty: true });
  if (!/^[0-9a-f]{8,64}$/.test(fingerprint)) throw new Error(`${what}.fingerprint is not a hex digest`);
  return {
    pipelineId: fields.text(handle.pipelineId, `${what}.pipelineId`, { nonEmpty: true }),
    serverUrl,
    fingerprint,
    startedAt: fields.text(handle.startedAt, `${what}.startedAt`),
  };
}
