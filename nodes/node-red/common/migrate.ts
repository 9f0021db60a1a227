/**
 * Flows are user data: node properties carry a `version`, and an older flow is brought
 * up to date when it loads, never rejected. Each migration takes version n to n+1.
 */
export type Migration = (config: Record<string, unknown>) => Record<string, unknown>;

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T is the caller's property type: after the migrations the config has every property
export function migrate<T>(config: object, migrations: Migration[]): T & { version: number } {
  let current: Record<string, unknown> = { ...config };
  const from = typeof current.version === 'number' ? current.version : Number(current.version) || 0;
  for (let version = from; version < migrations.length; version++) {
    current = { ...migrations[version](current), version: version + 1 };
  }
  return current as T & { version: number };
}
