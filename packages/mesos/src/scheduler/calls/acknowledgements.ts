/**
 * Acknowledgement bookkeeping (spec §4.2): only updates that carry a `uuid` are acknowledged, and
 * each uuid at most once per delivery. A uuid is not acknowledged again while its ACKNOWLEDGE is
 * in flight or succeeded less than `dedupeWindowMs` ago; a failed ACKNOWLEDGE is forgotten so the
 * agent's retry (it re-sends unacknowledged updates after ≥ 10 s) is acknowledged again.
 */

/** What `begin` decided for one update. */
export type AckDecision = 'send' | 'no-uuid' | 'duplicate';

/** Tracks ACKNOWLEDGE calls by uuid. `now()` is milliseconds. */
export class Acknowledger {
  private readonly inflight = new Set<string>();
  private readonly done = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    /** How long a successful ack suppresses another one for the same uuid (ms). */
    private readonly dedupeWindowMs = 10_000,
  ) {}

  /** Decides whether to send an ACKNOWLEDGE for `uuid`; on 'send', the ack is now in flight. */
  begin(uuid: string | undefined): AckDecision {
    if (uuid === undefined) return 'no-uuid';
    if (this.inflight.has(uuid)) return 'duplicate';
    const at = this.done.get(uuid);
    if (at !== undefined && this.now() - at < this.dedupeWindowMs) return 'duplicate';
    this.inflight.add(uuid);
    return 'send';
  }

  /** Records the outcome of an ACKNOWLEDGE started with `begin`. */
  finish(uuid: string, ok: boolean): void {
    this.inflight.delete(uuid);
    if (ok) {
      // Re-insert so the map stays in time order: pruning can then stop at the first young entry.
      this.done.delete(uuid);
      this.done.set(uuid, this.now());
    }
    this.prune();
  }

  /** Forgets acknowledgements older than the window; O(expired), since `done` is in time order. */
  private prune(): void {
    const horizon = this.now() - this.dedupeWindowMs;
    for (const [uuid, at] of this.done) {
      if (at >= horizon) break;
      this.done.delete(uuid);
    }
  }
}

/**
 * Background acknowledgements in arrival order, at most `limit` in flight. A scheduler that
 * launched thousands of tasks gets thousands of updates faster than their ACKNOWLEDGEs complete;
 * waiting here costs one array slot each, where a call already made costs its body, its
 * connection-pool request and its promises until a connection is free — kept alive long enough
 * to be copied by every garbage collection meanwhile. Every item is still sent, one call each.
 */
export class BackgroundAcks<T> {
  private readonly waiting: (T | undefined)[] = [];
  private head = 0;
  private active = 0;
  private readonly settled = (): void => {
    this.active--;
    this.pump();
  };

  constructor(
    /** Most sends in flight at once (≥ 1). */
    private readonly limit: number,
    /** Sends one acknowledgement; must not reject (report failures itself). */
    private readonly send: (item: T) => Promise<void>,
  ) {}

  /** Items not sent yet. */
  get backlog(): number {
    return this.waiting.length - this.head;
  }

  /** Queues `item` behind the others; it is sent as soon as fewer than `limit` are in flight. */
  push(item: T): void {
    this.waiting.push(item);
    this.pump();
  }

  private pump(): void {
    while (this.active < this.limit && this.head < this.waiting.length) {
      const item = this.waiting[this.head] as T;
      this.waiting[this.head++] = undefined;
      if (this.head === this.waiting.length) {
        this.waiting.length = 0;
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.active++;
      this.send(item).then(this.settled, this.settled);
    }
  }
}
