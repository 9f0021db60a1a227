import type { IExecuteFunctions, ITriggerFunctions } from 'n8n-workflow';
import { resolveConnection, type RoboflowConnection } from '../../../lib';

/** The fields of the `roboflowApi` credential. */
export interface RoboflowApiCredential {
  apiKey: string;
  region?: string;
  plan?: string;
  serverUrl?: string;
  apiUrl?: string;
}

/** The engine's connection from the node's Roboflow credential (validated; the key registered for redaction). */
export async function connectionOf(context: IExecuteFunctions | ITriggerFunctions): Promise<RoboflowConnection> {
  const credential = await context.getCredentials<RoboflowApiCredential>('roboflowApi');
  return resolveConnection(credential);
}
