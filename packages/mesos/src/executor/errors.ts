/** Errors of the executor client. */

/** Codes of `ExecutorError`. */
export type ExecutorErrorCode =
  /** A MESOS_* variable is missing or malformed. */
  | 'EXECUTOR_BAD_CONFIG'
  /** The agent refused a call (4xx); `cause` holds the HTTP error with the agent's text. */
  | 'EXECUTOR_CALL_REJECTED'
  /** The client was stopped. */
  | 'EXECUTOR_STOPPED';

/** An executor-level failure with a stable `code`. */
export class ExecutorError extends Error {
  constructor(
    readonly code: ExecutorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExecutorError';
  }
}
