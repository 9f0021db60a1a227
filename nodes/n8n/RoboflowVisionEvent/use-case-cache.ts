import { createHash } from 'node:crypto';
import type { RoboflowConnection, VisionEventsClient } from '../../../lib';

/**
 * Use-case ids looked up by name, per credential, for the whole n8n process: without
 * it every execution of the node costs a use-case list request before its events.
 * Entries expire (a use case renamed or deleted in the Roboflow app is looked up again
 * after a while, or at once when an event is refused with 404) and the cache is bounded.
 */
export class UseCaseCache {
  private readonly entries = new Map<string, { id: string; expiresAt: number }>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly maxEntries = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cache key: the credential (API URL and key, hashed) and the use case as typed. */
  key(connection: RoboflowConnection, useCase: string): string {
    const credential = createHash('sha256').update(`${connection.apiUrl}\u0000${connection.apiKey}`).digest('hex');
    return `${credential}\u0000${useCase}`;
  }

  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.id;
  }

  set(key: string, id: string): void {
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { id, expiresAt: this.now() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

export const useCaseIds = new UseCaseCache();

/** The use case's id, from the cache or looked up (and created when allowed). */
export async function cachedUseCaseId(
  client: VisionEventsClient,
  connection: RoboflowConnection,
  useCase: string,
  create: boolean,
  cache: UseCaseCache = useCaseIds,
): Promise<{ id: string; key: string }> {
  const key = cache.key(connection, useCase);
  const cached = cache.get(key);
  if (cached) return { id: cached, key };
  const id = await client.resolveUseCase(useCase, { create });
  cache.set(key, id);
  return { id, key };
}
