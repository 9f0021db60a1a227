import type { Migration } from '../common/migrate';

/** Version 1 is the first release: fill in what hand-written flows lack. */
export const migrations: Migration[] = [
  (config) => ({
    predictions: 'predictions',
    anchor: 'bottom',
    clock: 'arrival',
    leaveAfter: 1,
    updateEvery: 0,
    classes: '',
    minConfidence: 0,
    areas: '',
    alertClasses: '',
    alertConfidence: '',
    alertDwell: 0,
    alertZones: '',
    alertRate: 0,
    snapshot: true,
    ...config,
  }),
];
