/**
 * Errors thrown by @galley/core. Decisions return data (reasons, plans); these are thrown only for
 * input a caller should have validated (a policy with a negative delay, duplicate demand ids).
 * Callers look at `code`, never at the message.
 */

/** Stable codes of {@link CoreInputError}. */
export type CoreInputErrorCode =
  'INVALID_RETRY_POLICY' | 'INVALID_CONSTRAINT' | 'DUPLICATE_DEMAND' | 'INVALID_DEMAND' | 'DUPLICATE_NODE';

/** Input that breaks a documented contract. `field` names the offending field when there is one. */
export class CoreInputError extends Error {
  override readonly name = 'CoreInputError';
  readonly code: CoreInputErrorCode;
  readonly field: string | undefined;

  constructor(code: CoreInputErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
}
