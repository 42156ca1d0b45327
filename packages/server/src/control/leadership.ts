import type { Clock } from '../clock.js';
import type { Fence, LeaseRepository } from '../store/store.js';

/** The lease whose holder schedules. */
export const SCHEDULER_LEASE = 'scheduler';

/**
 * Whether this server replica may schedule. Only the leader dispatches, retries and reconciles;
 * every replica serves the API. `epoch` is the fencing token written with every launch intent:
 * it grows with each new leadership, so a deposed leader's late writes can be told apart, and
 * every scheduling write carries `fence()` so the store refuses it once the lease moved on.
 */
export interface Leadership {
  /** This replica's id: the holder it writes into the lease. */
  readonly id: string;
  /** Acquires (or begins competing for) leadership. */
  start(): Promise<void>;
  isLeader(): boolean;
  /** The fencing token of the current leadership; only meaningful while `isLeader()`. */
  epoch(): number;
  /** What this leadership's scheduling writes carry: the lease and its epoch. */
  fence(): Fence;
  /** When (ms) the current leadership began; null while not leading. */
  since(): number | null;
  /** Registers a callback for changes of `isLeader()` (called in registration order). */
  onChange(listener: (leader: boolean) => void): void;
  /** Gives leadership up now (listeners are told), so another replica takes over; undefined = cannot. */
  resign?(reason: string): void;
  close(): Promise<void>;
}

/**
 * The leadership of a server that runs alone (the embedded store is one process's): always the
 * leader. It still takes the `scheduler` lease at start, so each start gets a new, larger epoch
 * from the store, and its writes are fenced like a replica's.
 */
export class SoleLeadership implements Leadership {
  private current = 0;
  private startedAt: number | null = null;
  private readonly listeners: ((leader: boolean) => void)[] = [];

  constructor(
    private readonly store: LeaseRepository,
    readonly id: string,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    // A zero TTL: nothing renews it; a later start (or another kind of leadership) takes over at once.
    const epoch = await this.store.acquireLease(SCHEDULER_LEASE, this.id, 0, this.clock.now(), {
      fresh: true,
    });
    if (epoch === null) throw new Error('the scheduler lease is held by another server');
    this.current = epoch;
    this.startedAt = this.clock.now();
    for (const listener of this.listeners) listener(true);
  }

  isLeader(): boolean {
    return this.current > 0;
  }

  epoch(): number {
    return this.current;
  }

  fence(): Fence {
    return { name: SCHEDULER_LEASE, epoch: this.current };
  }

  since(): number | null {
    return this.startedAt;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {}
}

/**
 * Leadership as a follower of the run controller sees it (the pipeline controller): a term opens
 * only once the run controller took over — the work in flight handed to the backends, which then
 * started — and ends when the run controller steps down. Between `begin()` and `open()`,
 * `isLeader()` is already true (the follower may hand its work over) but no change was told yet.
 */
export class TermLeadership implements Leadership {
  private active = false;
  private readonly listeners: ((leader: boolean) => void)[] = [];

  constructor(private readonly base: Leadership) {}

  get id(): string {
    return this.base.id;
  }

  /** A term begins: the follower may hand its work in flight to the backends. */
  begin(): void {
    this.active = true;
  }

  /** The backends run: the follower is told it leads. */
  open(): void {
    if (!this.active) return;
    for (const listener of this.listeners) listener(true);
  }

  /** The term ended (or a begun one was abandoned): the follower is told it does not lead. */
  end(): void {
    if (!this.active) return;
    this.active = false;
    for (const listener of this.listeners) listener(false);
  }

  async start(): Promise<void> {}

  isLeader(): boolean {
    return this.active && this.base.isLeader();
  }

  epoch(): number {
    return this.base.epoch();
  }

  fence(): Fence {
    return this.base.fence();
  }

  since(): number | null {
    return this.active ? this.base.since() : null;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {}
}
