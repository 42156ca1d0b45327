/**
 * Errors of the HTTP transport. Each has a stable `code` and behaviour flags, so callers decide
 * what to do from data, never from message text (the style of mesos-go's `Temporary()` /
 * `SubscriptionLoss()`):
 * - `temporary`: the same request may succeed later (retry with backoff, maybe elsewhere);
 * - `subscriptionLost`: the subscription this request belonged to is gone: resubscribe;
 * - `redirect`: another master leads; `location` says which.
 */

/** Codes of `MesosHttpError`, one per HTTP status class of spec §1.3. */
export type MesosHttpErrorCode =
  | 'MESOS_NOT_LEADER'
  | 'MESOS_BAD_REQUEST'
  | 'MESOS_UNAUTHORIZED'
  | 'MESOS_FORBIDDEN'
  | 'MESOS_NOT_FOUND'
  | 'MESOS_METHOD_NOT_ALLOWED'
  | 'MESOS_NOT_ACCEPTABLE'
  | 'MESOS_CONFLICT'
  | 'MESOS_UNSUPPORTED_MEDIA_TYPE'
  | 'MESOS_NOT_IMPLEMENTED'
  | 'MESOS_UNAVAILABLE'
  | 'MESOS_SERVER_ERROR'
  | 'MESOS_UNEXPECTED_STATUS';

/** What a status code means for the client. */
export interface StatusBehaviour {
  code: MesosHttpErrorCode;
  temporary: boolean;
  subscriptionLost: boolean;
  redirect: boolean;
}

const behaviour = (
  code: MesosHttpErrorCode,
  flags: Partial<Omit<StatusBehaviour, 'code'>> = {},
): StatusBehaviour => ({ code, temporary: false, subscriptionLost: false, redirect: false, ...flags });

/**
 * THE table from HTTP status to error kind (spec §1.3). Statuses not listed map to
 * MESOS_SERVER_ERROR (5xx, temporary) or MESOS_UNEXPECTED_STATUS.
 */
export const STATUS_BEHAVIOURS: ReadonlyMap<number, StatusBehaviour> = new Map([
  // Not the leader: switch to the master in Location and (re)SUBSCRIBE there.
  [307, behaviour('MESOS_NOT_LEADER', { temporary: true, subscriptionLost: true, redirect: true })],
  // Malformed or invalid call, unknown framework, stale/missing Mesos-Stream-Id.
  [400, behaviour('MESOS_BAD_REQUEST')],
  [401, behaviour('MESOS_UNAUTHORIZED')],
  // Framework known but not subscribed (connection dropped): re-SUBSCRIBE before calling.
  [403, behaviour('MESOS_FORBIDDEN', { subscriptionLost: true })],
  // The master's routes are not installed yet (start-up): retry with backoff.
  [404, behaviour('MESOS_NOT_FOUND', { temporary: true })],
  [405, behaviour('MESOS_METHOD_NOT_ALLOWED')],
  [406, behaviour('MESOS_NOT_ACCEPTABLE')],
  // UPDATE_FRAMEWORK raced with the removal of the framework: treat as removed.
  [409, behaviour('MESOS_CONFLICT')],
  [415, behaviour('MESOS_UNSUPPORTED_MEDIA_TYPE')],
  [501, behaviour('MESOS_NOT_IMPLEMENTED')],
  // No leader elected, or the leader is still recovering: back off, re-detect, retry.
  [503, behaviour('MESOS_UNAVAILABLE', { temporary: true, subscriptionLost: true })],
]);

/** The behaviour for any HTTP status (see STATUS_BEHAVIOURS). */
export function statusBehaviour(status: number): StatusBehaviour {
  const known = STATUS_BEHAVIOURS.get(status);
  if (known) return known;
  if (status >= 500) return behaviour('MESOS_SERVER_ERROR', { temporary: true });
  return behaviour('MESOS_UNEXPECTED_STATUS');
}

/** A master answered with a status other than the expected 200/202. */
export class MesosHttpError extends Error {
  readonly code: MesosHttpErrorCode;
  readonly temporary: boolean;
  readonly subscriptionLost: boolean;
  readonly redirect: boolean;
  constructor(
    /** The HTTP status. */
    readonly status: number,
    /** The master's short text reason (at most 4 KiB), e.g. `Framework is not subscribed`. */
    readonly reason: string,
    /** The URL that answered (no credentials in it). */
    readonly url: string,
    /** For 307: the absolute URL of the leader, resolved against the request's scheme. */
    readonly location?: string,
  ) {
    super(`Mesos answered ${status} to POST ${url}${reason ? `: ${reason.trim()}` : ''}`);
    this.name = 'MesosHttpError';
    const b = statusBehaviour(status);
    this.code = b.code;
    this.temporary = b.temporary;
    this.subscriptionLost = b.subscriptionLost;
    this.redirect = b.redirect;
  }
}

/** Codes of `MesosConnectionError`. */
export type MesosConnectionErrorCode =
  /** TCP/TLS connection could not be made or broke before an answer arrived. */
  | 'MESOS_CONNECTION_FAILED'
  /** No answer within the request timeout. */
  | 'MESOS_REQUEST_TIMEOUT'
  /** The request was cancelled through its AbortSignal. */
  | 'MESOS_REQUEST_ABORTED'
  /** A 307 chain longer than the allowed number of hops. */
  | 'MESOS_TOO_MANY_REDIRECTS';

/**
 * The request got no usable HTTP answer. Always `temporary` except for an abort. It does not by
 * itself mean the subscription is lost (the stream notices that on its own connection).
 */
export class MesosConnectionError extends Error {
  readonly temporary: boolean;
  readonly subscriptionLost = false;
  readonly redirect = false;
  constructor(
    readonly code: MesosConnectionErrorCode,
    message: string,
    /** The URL that was tried (no credentials in it). */
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MesosConnectionError';
    this.temporary = code !== 'MESOS_REQUEST_ABORTED';
  }
}

/** Either kind of transport error. */
export type MesosTransportError = MesosHttpError | MesosConnectionError;

/** True for the transport errors of this module (both kinds). */
export function isMesosTransportError(error: unknown): error is MesosTransportError {
  return error instanceof MesosHttpError || error instanceof MesosConnectionError;
}
