/**
 * The one place that hides secrets in text before it is logged, shown on a status or
 * put into an error message: API keys (in query strings, JSON bodies, Bearer headers,
 * or anywhere once registered) and passwords inside URLs (`rtsp://user:pass@cam`).
 */

const MASK = '***';

/**
 * Secrets seen at run time (API keys from credentials), matched anywhere, verbatim, with
 * who holds each: two config nodes may hold the same key, and deleting one of them must
 * not un-mask the key the other still uses. A secret is masked while anyone holds it.
 */
const knownSecrets = new Map<string, Set<string>>();

/** Shorter strings are too likely to match ordinary text to be masked verbatim. */
const MIN_SECRET_LENGTH = 6;

/** The holder of registrations that name none: the process itself, for good. */
const ANONYMOUS = '';

/**
 * Remember a secret so that `redact` masks it wherever it appears, even in text no
 * pattern recognises (an error body echoing the key, a stack trace). `holder` names who
 * holds it (a config node's id, stable across redeploys): registering again by the same
 * holder changes nothing, and `forgetSecret` by that holder ends its hold. The secret is
 * un-masked only once no holder is left.
 */
export function registerSecret(secret: string | undefined | null, holder: string = ANONYMOUS): void {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return;
  let holders = knownSecrets.get(secret);
  if (!holders) knownSecrets.set(secret, (holders = new Set()));
  holders.add(holder);
}

/**
 * A URL's password, as written and decoded, is masked wherever it is printed later:
 * ffmpeg and servers quote camera URLs in their errors, sometimes decoded.
 */
export function registerUrlPassword(url: string): void {
  try {
    const password = new URL(url).password;
    if (!password) return;
    registerSecret(password);
    registerSecret(decodeURIComponent(password));
  } catch {
    // Not parseable, or an escape that does not decode: the redaction patterns still apply.
  }
}

/** `holder` no longer holds `secret` (its credential was deleted); un-masked once nobody does. */
export function forgetSecret(secret: string | undefined | null, holder: string = ANONYMOUS): void {
  if (typeof secret !== 'string') return;
  const holders = knownSecrets.get(secret);
  if (!holders) return;
  holders.delete(holder);
  if (holders.size === 0) knownSecrets.delete(secret);
}

/** How many holders keep `secret` masked (for tests and diagnostics). */
export function secretHolders(secret: string): number {
  return knownSecrets.get(secret)?.size ?? 0;
}

const patterns: Array<[RegExp, string]> = [
  // api_key=... / apiKey=... / key=... in query strings and form bodies.
  [/([?&;\s](?:api_key|apikey|api-key|key|token|access_token)=)[^&\s'"#]+/gi, `$1${MASK}`],
  // "api_key": "..." in JSON: a JSON string may hold escaped quotes (\").
  [/("(?:api_key|apiKey|api-key|password|credential|secret)"\s*:\s*")(?:[^"\\]|\\.)*(")/gi, `$1${MASK}$2`],
  // api_key: '...' / password='...' in JS-ish object dumps and settings.
  [/(['"]?(?:api_key|apiKey|api-key|password|credential|secret)['"]?\s*[:=]\s*')[^']*(')/gi, `$1${MASK}$2`],
  [/((?<!["'])\b(?:api_key|apiKey|api-key|password|credential|secret)\s*[:=]\s*")[^"]*(")/gi, `$1${MASK}$2`],
  // Authorization headers.
  [/(\bBearer\s+)[A-Za-z0-9._~+/=-]+/g, `$1${MASK}`],
  [/(\bBasic\s+)[A-Za-z0-9+/=]{8,}/g, `$1${MASK}`],
];

const SCHEME = /\b[a-z][a-z0-9+.-]*:\/\//gi;

/**
 * Hides the password of every URL in `text` by reading each URL's userinfo the way the
 * URL standard (and ffmpeg) does, not with a character class: the authority runs from
 * `//` to the first `/`, `?` or `#`, the userinfo is everything before its LAST `@`, and
 * the password is what follows the first `:` of the userinfo. So a password may hold
 * quotes, spaces, `@`, `:`, `%` or any other character a URL can carry raw; `/`, `?` and
 * `#` end an authority in every parser, so a URL carries them percent-encoded (masked
 * too), and one typed with them raw is read as a careless user meant it (see
 * malformedUserinfoEnd). When a URL without a path is followed by more text with an `@`, more is masked
 * than the password: never less.
 */
function redactUrlPasswords(text: string): string {
  let out = '';
  let done = 0;
  SCHEME.lastIndex = 0;
  for (let match = SCHEME.exec(text); match; match = SCHEME.exec(text)) {
    const start = match.index + match[0].length;
    if (start <= done) continue;
    let end = start;
    while (end < text.length && text[end] !== '/' && text[end] !== '?' && text[end] !== '#') end++;
    const at = Math.max(text.lastIndexOf('@', end - 1), malformedUserinfoEnd(text, start));
    if (at < start) continue;
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon > at) continue;
    out += text.slice(done, colon + 1) + MASK;
    done = at;
    SCHEME.lastIndex = at;
  }
  return out + text.slice(done);
}

/**
 * A URL typed with a raw `/`, `?` or `#` in its password (`rtsp://admin:pa/ss@cam/live`)
 * is malformed: by the standard's reading its password ends at that `/` (or there is none),
 * the camera refuses it and the URL reaches an error message as typed. When what follows
 * `//` reads as `user:` (no `/ ? # @` before the colon, and no port: digits then a path),
 * the password runs to the last `@` before a space, a quote or the end of the line: more
 * masked than needed when a path holds an `@`, never less. Returns that `@`'s index, or -1.
 */
function malformedUserinfoEnd(text: string, start: number): number {
  const lineEnd = text.indexOf('\n', start);
  const line = text.slice(start, lineEnd < 0 ? text.length : lineEnd);
  const colon = line.indexOf(':');
  if (colon < 0 || /[/?#@]/.test(line.slice(0, colon)) || /^\d+(?:[/?#]|$)/.test(line.slice(colon + 1))) return -1;
  const token = /^[^\s'"]*/.exec(line.slice(colon + 1))?.[0] ?? '';
  const at = token.lastIndexOf('@');
  return at < 0 ? -1 : start + colon + 1 + at;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Returns `text` with every secret it can recognise replaced by `***`. */
export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets.keys()) {
    if (out.includes(secret)) out = out.replace(new RegExp(escapeRegExp(secret), 'g'), MASK);
  }
  out = redactUrlPasswords(out);
  for (const [pattern, replacement] of patterns) out = out.replace(pattern, replacement);
  return out;
}

const SECRET_FIELD = /^(?:api_key|apikey|api-key|password|credential|secret|token|access_token)$/i;

function redactTree(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') return key !== undefined && SECRET_FIELD.test(key) ? MASK : redact(value);
  if (Array.isArray(value)) return value.map((item) => redactTree(item, undefined));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, item]) => [name, redactTree(item, name)]));
  }
  return value;
}

/**
 * Redacts every string inside a JSON-like value (for logging request/response bodies),
 * one string at a time: masking never reaches across a value's structure.
 */
export function redactValue<T>(value: T): T {
  return redactTree(JSON.parse(JSON.stringify(value ?? null)) as unknown, undefined) as T;
}
