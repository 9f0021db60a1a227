import type { IExecuteFunctions, ITriggerFunctions } from 'n8n-workflow';
import { RoboflowError, resolveConnection, type ConnectionInput, type RoboflowConnection } from '../../../lib';

/** The fields of the `roboflowApi` credential. */
export interface RoboflowApiCredential {
  apiKey: string;
  /** `us`, `eu`, `ap`, or `other` for the region typed in `customRegion`. */
  region?: string;
  /** The region when `region` is `other` (the service takes any region name, e.g. `eu-west`). */
  customRegion?: string;
  plan?: string;
  serverUrl?: string;
  apiUrl?: string;
}

/** The Region option that stands for the region typed in Custom Region. */
export const OTHER_REGION = 'other';

/** The credential's fields as n8n hands them over: typed, or a credential test's plain data. */
export type RoboflowApiCredentialData = { [K in keyof RoboflowApiCredential]?: unknown };

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The engine's connection input from the credential's fields: Region "Other…" becomes the
 * custom region typed beside it (a credential saved before that option keeps its region).
 */
export function connectionInput(credential: RoboflowApiCredentialData): ConnectionInput {
  let region = text(credential.region);
  if (region === OTHER_REGION) {
    region = text(credential.customRegion)?.trim();
    if (!region) throw new RoboflowError('invalid-input', 'Region is "Other…": type the region name in Custom Region (e.g. eu-west)');
  }
  return { apiKey: text(credential.apiKey), region, plan: text(credential.plan), serverUrl: text(credential.serverUrl), apiUrl: text(credential.apiUrl) };
}

/** The engine's connection from the node's Roboflow credential (validated; the key registered for redaction). */
export async function connectionOf(context: IExecuteFunctions | ITriggerFunctions): Promise<RoboflowConnection> {
  const credential = await context.getCredentials<RoboflowApiCredential>('roboflowApi');
  return resolveConnection(connectionInput(credential));
}
