/**
 * The one place that hides secrets in text before it is logged, shown on a status or
 * put into an error message: API keys (in query strings, JSON bodies, Bearer headers,
 * or anywhere once registered) and passwords inside URLs (`rtsp://user:pass@cam`).
 */

const MASK = '***';

/** Secrets seen at run time (API keys from credentials). Matched anywhere, verbatim. */
const knownSecrets = new Set<string>();

/** Shorter strings are too likely to match ordinary text to be masked verbatim. */
const MIN_SECRET_LENGTH = 6;

/**
 * Remember a secret so that `redact` masks it wherever it appears, even in text no
 * pattern recognises (an error body echoing the key, a stack trace).
 */
export function registerSecret(secret: string | undefined | null): void {
  if (typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH) knownSecrets.add(secret);
}

/** Forget a secret (the credential was deleted). */
export function forgetSecret(secret: string | undefined | null): void {
  if (typeof secret === 'string') knownSecrets.delete(secret);
}

const patterns: Array<[RegExp, string]> = [
  // user:password@ in any URL (rtsp, http, ...): keep the user, hide the password.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]*):([^\s/@'"]*)@/gi, `$1:${MASK}@`],
  // api_key=... / apiKey=... / key=... in query strings and form bodies.
  [/([?&;\s](?:api_key|apikey|api-key|key|token|access_token)=)[^&\s'"#]+/gi, `$1${MASK}`],
  // "api_key": "..." in JSON or JS-ish object dumps, any quoting.
  [/(["']?(?:api_key|apiKey|api-key|password|credential|secret)["']?\s*[:=]\s*["'])[^"']*(["'])/gi, `$1${MASK}$2`],
  // Authorization headers.
  [/(\bBearer\s+)[A-Za-z0-9._~+/=-]+/g, `$1${MASK}`],
  [/(\bBasic\s+)[A-Za-z0-9+/=]{8,}/g, `$1${MASK}`],
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Returns `text` with every secret it can recognise replaced by `***`. */
export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.replace(new RegExp(escapeRegExp(secret), 'g'), MASK);
  }
  for (const [pattern, replacement] of patterns) out = out.replace(pattern, replacement);
  return out;
}

/** A URL made safe to print: password and key-like query values masked. */
export function redactUrl(url: string): string {
  return redact(url);
}

/** Redacts every string inside a JSON-like value (for logging request/response bodies). */
export function redactValue<T>(value: T): T {
  return JSON.parse(redact(JSON.stringify(value ?? null))) as T;
}
