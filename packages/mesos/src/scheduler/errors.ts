/** Errors of the scheduler client. */

/** Codes of `SchedulerError`. */
export type SchedulerErrorCode =
  /** A call needs a subscription and there is none right now (retry after `subscribed`). */
  | 'MESOS_NOT_SUBSCRIBED'
  /** The scheduler was stopped. */
  | 'MESOS_SCHEDULER_STOPPED'
  /** The framework id could not be saved or loaded. */
  | 'MESOS_FRAMEWORK_ID_STORE_FAILED'
  /** The master sent an ERROR event; `message` holds its text. */
  | 'MESOS_ERROR_EVENT'
  /** The scheduler configuration is invalid. */
  | 'MESOS_BAD_OPTIONS';

/** A scheduler-level failure with a stable `code`. */
export class SchedulerError extends Error {
  /** True when trying again later may succeed. */
  readonly temporary: boolean;
  constructor(
    readonly code: SchedulerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SchedulerError';
    this.temporary = code === 'MESOS_NOT_SUBSCRIBED' || code === 'MESOS_FRAMEWORK_ID_STORE_FAILED';
  }
}
