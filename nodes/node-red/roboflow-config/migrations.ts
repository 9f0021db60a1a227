import type { Migration } from '../common/migrate';

/**
 * Version 1 is the first release: fill in what a hand-written flow may lack.
 * Version 2: the daily budget (none for existing configs: they stream as before).
 */
export const migrations: Migration[] = [
  (config) => ({ serverUrl: '', apiUrl: '', region: '', plan: '', ...config }),
  (config) => ({ budgetLimit: '', budgetUnit: 'minutes', creditMinutes: '', ...config }),
];
