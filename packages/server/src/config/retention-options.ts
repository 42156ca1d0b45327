import type { OptionSpecOf } from './option-spec.js';

/** The retention keys of the server's flat config. */
export interface RetentionFlags {
  retentionDays: number;
}

/** How long finished runs are kept. */
export const RETENTION_OPTIONS: readonly OptionSpecOf<keyof RetentionFlags>[] = [
  {
    key: 'retentionDays',
    flag: '--retention-days',
    env: 'GALLEY_RETENTION_DAYS',
    type: 'integer',
    min: 0,
    default: () => 30,
    description:
      "Days a finished run is kept, with its timeline and its local logs, unless its definition's `retention_days` says otherwise; 0 = forever. The leader prunes in the background, 500 runs per transaction.",
  },
];
