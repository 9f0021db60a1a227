/**
 * The secrets the test suites use (API keys, right and wrong; camera passwords), and a
 * scanner that looks for them in text as it is produced. Secrets are declared with
 * `secret()` where a suite defines them, so the scan knows every one of them.
 */

const registered = new Set<string>();

/** Declares `value` a secret of the test suites (no output may ever contain it) and returns it. */
export function secret(value: string): string {
  if (value.length < 6) throw new Error('a secret this short would match by accident: use at least 6 characters');
  registered.add(value);
  return value;
}

export function registeredSecrets(): string[] {
  return [...registered];
}

export interface SecretHit {
  source: string;
  /** The text around the hit, with the secret masked (the report must not print it either). */
  excerpt: string;
}

/**
 * Finds secrets in text from named sources. Text arrives in chunks (a secret may be split
 * across two), so each source keeps the tail of its last chunk. Buffers in structured
 * values are skipped: they are images and video, not text.
 */
export class SecretScanner {
  readonly hits: SecretHit[] = [];
  /** Characters seen per source: a scan that saw nothing proves nothing. */
  readonly seen = new Map<string, number>();
  private readonly tails = new Map<string, string>();

  constructor(private readonly secrets: () => string[]) {}

  text(source: string, chunk: string): void {
    if (!chunk) return;
    this.seen.set(source, (this.seen.get(source) ?? 0) + chunk.length);
    const secrets = this.secrets();
    const longest = secrets.reduce((max, value) => Math.max(max, value.length), 0);
    const text = (this.tails.get(source) ?? '') + chunk;
    for (const value of secrets) {
      const at = text.indexOf(value);
      if (at >= 0) this.hits.push({ source, excerpt: mask(text.slice(Math.max(0, at - 80), at + value.length + 80), secrets) });
    }
    // Keep less than one secret's worth, so a hit is never reported twice.
    this.tails.set(source, text.slice(Math.max(0, text.length - (longest - 1))));
  }

  value(source: string, value: unknown): void {
    this.text(source, describe(value));
  }
}

function mask(text: string, secrets: string[]): string {
  return secrets.reduce((masked, value) => masked.split(value).join('<secret>'), text);
}

/** JSON-ish text of a value for scanning, with buffers and typed arrays left out and cycles cut. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  // eslint-disable-next-line @typescript-eslint/no-misused-spread -- an Error's own fields (code, status, ...) are what may hold a secret
  if (value instanceof Error) return `${value.name}: ${value.message} ${describe({ ...value })}`;
  const seen = new WeakSet<object>();
  try {
    return (
      JSON.stringify(value, (_key, inner: unknown) => {
        if (inner instanceof Uint8Array || inner instanceof ArrayBuffer) return `<${inner.byteLength} bytes>`;
        if (inner && typeof inner === 'object') {
          const raw = inner as { type?: unknown; data?: unknown };
          if (raw.type === 'Buffer' && Array.isArray(raw.data)) return `<${raw.data.length} bytes>`;
          if (seen.has(inner)) return '<cycle>';
          seen.add(inner);
        }
        if (inner instanceof Error) return `${inner.name}: ${inner.message}`;
        return inner;
      }) ?? ''
    );
  } catch {
    return String(value);
  }
}
