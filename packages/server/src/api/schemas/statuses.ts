/** The statuses of a run, in lifecycle order. (Its own module: the CLI loads it without TypeBox.) */
export const RUN_STATUSES = ['QUEUED', 'PENDING', 'RUNNING', 'STOPPED', 'NEEDS_RETRY'] as const;
