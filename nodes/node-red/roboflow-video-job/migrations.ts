import type { Migration } from '../common/migrate';

/**
 * Version 1 is the first release: fill in what hand-written flows lack.
 * Version 2: a pinned workflow version and dry runs (off: as before).
 * Version 3: which API runs a workflow job. Flows saved before keep /videoinfer; new
 * nodes use `auto` (Batch Processing, falling back to /videoinfer).
 * Version 4: an optional notifications URL for Batch Processing jobs (empty: none, as before).
 */
export const migrations: Migration[] = [
  (config) => ({ target: 'workflow', workspaceType: 'str', workflowType: 'str', model: '', fps: 5, pollInterval: '', ...config }),
  (config) => ({ workflowVersion: '', disableSinks: false, ...config }),
  (config) => ({ jobApi: 'videoinfer', ...config }),
  (config) => ({ notificationsUrl: '', ...config }),
];
