import { RoboflowError } from './errors';
import { registerSecret } from './redact';

/** The regions the editors offer; the service accepts others too (e.g. `eu-west`), passed on as given. */
export const REGIONS = ['us', 'eu', 'ap'] as const;
export type Region = string;
/** A region name as the hosting platform spells them: letters, digits, dashes. */
const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/i;

export const PLANS = ['webrtc-gpu-small', 'webrtc-gpu-medium', 'webrtc-gpu-large'] as const;
export type Plan = (typeof PLANS)[number];

export const DEFAULT_SERVER_URL = 'https://serverless.roboflow.com';
export const DEFAULT_API_URL = 'https://api.roboflow.com';

/** Where and as whom to talk to Roboflow (or a self-hosted / local stand-in). */
export interface RoboflowConnection {
  apiKey: string;
  /** Streaming host: `initialise_webrtc_worker`, terminate. */
  serverUrl: string;
  /** REST host: TURN config, video jobs, Vision Events. */
  apiUrl: string;
  /** Requested worker region; omitted from requests when unset. */
  region?: Region;
  /** Requested GPU plan; omitted from requests when unset (server default: small). */
  plan?: Plan;
}

export interface ConnectionInput {
  apiKey?: string | null;
  serverUrl?: string | null;
  apiUrl?: string | null;
  region?: string | null;
  plan?: string | null;
  /**
   * Who holds the key for redaction (a config node's id): the key stays masked until that
   * holder forgets it (see registerSecret). Without one, the key stays masked for good.
   */
  secretHolder?: string;
}

function normaliseUrl(value: string | null | undefined, fallback: string, field: string): string {
  const text = (value ?? '').trim() || fallback;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RoboflowError('invalid-input', `${field} is not a valid URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RoboflowError('invalid-input', `${field} must start with http:// or https://`);
  }
  return text.replace(/\/+$/, '');
}

/**
 * Validates and completes a connection: trims the key, fills in Roboflow's hosts, and
 * registers the key with the redaction helper so it can never be printed.
 */
export function resolveConnection(input: ConnectionInput): RoboflowConnection {
  const apiKey = (input.apiKey ?? '').trim();
  if (!apiKey) throw new RoboflowError('missing-api-key', 'API key missing: set the API key in the Roboflow credentials');
  registerSecret(apiKey, input.secretHolder);
  const region = (input.region ?? '').trim();
  const plan = (input.plan ?? '').trim();
  if (region && !REGION_PATTERN.test(region)) {
    throw new RoboflowError('invalid-input', `Invalid region "${region}": use a region name such as ${REGIONS.join(', ')} (letters, digits and dashes)`);
  }
  if (plan && !(PLANS as readonly string[]).includes(plan)) {
    throw new RoboflowError('invalid-input', `Unknown plan "${plan}": use one of ${PLANS.join(', ')}`);
  }
  return {
    apiKey,
    serverUrl: normaliseUrl(input.serverUrl, DEFAULT_SERVER_URL, 'Server URL'),
    apiUrl: normaliseUrl(input.apiUrl, DEFAULT_API_URL, 'API URL'),
    ...(region ? { region } : {}),
    ...(plan ? { plan: plan as Plan } : {}),
  };
}

/**
 * True for Roboflow's own hosts, which need TURN and know about plans and regions:
 * `*.roboflow.com`, `*.roboflow.eu` and `*.roboflow-eu.one` (docs/protocol.md §1).
 */
export function isRoboflowHosted(url: string): boolean {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return /(^|\.)(roboflow\.com|roboflow\.eu|roboflow-eu\.one)$/.test(host);
  } catch {
    return false;
  }
}
