/**
 * The connection phases of a scheduler, written down as a state machine (spec §1.8):
 *
 *   DISCONNECTED --connect--> CONNECTING --leader-found--> SUBSCRIBING
 *   SUBSCRIBING --redirected--> SUBSCRIBING (another master, hop + 1)
 *   SUBSCRIBING --subscribed--> SUBSCRIBED
 *   CONNECTING | SUBSCRIBING | SUBSCRIBED --lost--> DISCONNECTED (then backoff, connect again)
 *   any --failed-over | removed | not-leading | stop--> STOPPED (final)
 *
 * `transition` is pure; the scheduler performs the side effects that each new phase implies.
 * Events that make no sense in a phase leave it unchanged.
 */

/** Why a subscription ended or could not be made. */
export type DisconnectReason =
  /** The master closed the stream cleanly (EOF). */
  | 'stream-ended'
  /** The stream broke (socket error, cut mid-record). */
  | 'stream-error'
  /** The stream could not be decoded (bad RecordIO framing or JSON): framing is lost. */
  | 'bad-stream'
  /** Nothing arrived for N heartbeat intervals. */
  | 'heartbeat-timeout'
  /** No leading master could be found. */
  | 'no-leader'
  /** The SUBSCRIBE request was answered with an error (or not at all). */
  | 'subscribe-failed'
  /** The master sent an ERROR event other than failover/removal (e.g. a validation error). */
  | 'subscription-rejected'
  /** The master detector reported a different leader. */
  | 'leader-changed'
  /** A call was answered in a way that says the subscription is gone (403, 307, 503). */
  | 'call-rejected'
  /** The framework id could not be persisted after SUBSCRIBED. */
  | 'framework-id-store-failed';

/** Why a scheduler stopped for good. */
export type StopReason =
  /** `stop()` was called. */
  | 'stopped'
  /** ERROR "Framework failed over": another instance subscribed with our id. */
  | 'failed-over'
  /** ERROR "Framework has been removed" (failover timeout expired or TEARDOWN): the id is dead. */
  | 'removed'
  /** This scheduler sent TEARDOWN. */
  | 'teardown'
  /** The `leading` option answered false before a SUBSCRIBE: another instance leads now. */
  | 'not-leading';

/** The phase of the connection, with what is known in it. */
export type ConnectionState =
  | { phase: 'DISCONNECTED'; reason?: DisconnectReason; attempt: number }
  | { phase: 'CONNECTING'; attempt: number }
  | { phase: 'SUBSCRIBING'; attempt: number; master: string; hops: number }
  | {
      phase: 'SUBSCRIBED';
      master: string;
      streamId: string;
      frameworkId: string;
      heartbeatIntervalSeconds: number;
    }
  | { phase: 'STOPPED'; reason: StopReason };

/** A connection phase name. */
export type ConnectionPhase = ConnectionState['phase'];

/** What can happen to a connection. */
export type ConnectionEvent =
  | { type: 'connect' }
  | { type: 'leader-found'; master: string }
  | { type: 'redirected'; master: string }
  | { type: 'subscribed'; streamId: string; frameworkId: string; heartbeatIntervalSeconds: number }
  | { type: 'lost'; reason: DisconnectReason }
  | { type: 'stop'; reason: StopReason };

/** The initial state: disconnected, nothing tried yet. */
export const INITIAL_CONNECTION_STATE: ConnectionState = { phase: 'DISCONNECTED', attempt: 0 };

/** Applies `event` to `state` (pure). STOPPED is final. */
export function transition(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  if (state.phase === 'STOPPED') return state;
  if (event.type === 'stop') return { phase: 'STOPPED', reason: event.reason };
  switch (state.phase) {
    case 'DISCONNECTED':
      return event.type === 'connect' ? { phase: 'CONNECTING', attempt: state.attempt } : state;
    case 'CONNECTING':
      if (event.type === 'leader-found') {
        return { phase: 'SUBSCRIBING', attempt: state.attempt, master: event.master, hops: 0 };
      }
      if (event.type === 'lost')
        return { phase: 'DISCONNECTED', reason: event.reason, attempt: state.attempt + 1 };
      return state;
    case 'SUBSCRIBING':
      if (event.type === 'redirected') return { ...state, master: event.master, hops: state.hops + 1 };
      if (event.type === 'subscribed') {
        return {
          phase: 'SUBSCRIBED',
          master: state.master,
          streamId: event.streamId,
          frameworkId: event.frameworkId,
          heartbeatIntervalSeconds: event.heartbeatIntervalSeconds,
        };
      }
      if (event.type === 'lost')
        return { phase: 'DISCONNECTED', reason: event.reason, attempt: state.attempt + 1 };
      return state;
    case 'SUBSCRIBED':
      // A subscription that worked resets the backoff: the next attempt starts from the minimum.
      if (event.type === 'lost') return { phase: 'DISCONNECTED', reason: event.reason, attempt: 0 };
      return state;
  }
}

/** How the session treats an ERROR event, decided from its message in this one place. */
export type ErrorEventKind = 'failed-over' | 'removed' | 'rejected';

/**
 * Classifies an ERROR event (spec §1.5): `Framework failed over` (another instance took over:
 * stop), `Framework has been removed` (the id is dead: stop), anything else (the subscription
 * was rejected, e.g. bad roles: retry with backoff).
 */
export function classifyErrorEvent(message: string): ErrorEventKind {
  if (/framework failed over/i.test(message)) return 'failed-over';
  if (/framework has been removed/i.test(message)) return 'removed';
  return 'rejected';
}
