import type { Migration } from '../common/migrate';

/** Version 1 is the first release: fill in what older or hand-written flows lack. */
export const migrations: Migration[] = [
  (config) => ({
    workspaceType: 'str',
    workflowType: 'str',
    workflowSpec: '',
    model: '',
    imageInput: 'image',
    parameters: '',
    workflowVersion: '',
    disableSinks: false,
    concurrency: 4,
    queueSize: 50,
    filter: false,
    classes: '',
    minConfidence: 0.5,
    ...config,
  }),
];
