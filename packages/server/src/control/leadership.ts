import type { Clock } from '../clock.js';
import type { LeaseRepository } from '../store/store.js';

/**
 * Whether this server replica may schedule. Only the leader dispatches, retries and reconciles;
 * every replica serves the API. `epoch` is the fencing token written with every launch intent:
 * it grows with each new leadership, so a deposed leader's late writes can be told apart.
 */
export interface Leadership {
  /** Acquires (or begins competing for) leadership. */
  start(): Promise<void>;
  isLeader(): boolean;
  /** The fencing token of the current leadership; only meaningful while `isLeader()`. */
  epoch(): number;
  /** Registers a callback for changes of `isLeader()`. */
  onChange(listener: (leader: boolean) => void): void;
  close(): Promise<void>;
}

/**
 * The leadership of a server that runs alone: always the leader. It still takes the `scheduler`
 * lease at start, so each start gets a new, larger epoch from the store.
 */
export class SoleLeadership implements Leadership {
  private current = 0;

  constructor(
    private readonly store: LeaseRepository,
    private readonly holder: string,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    // A zero TTL: a future replica with real elections may take over at once.
    const epoch = await this.store.acquireLease('scheduler', this.holder, 0, this.clock.now());
    if (epoch === null) throw new Error('the scheduler lease is held by another server');
    this.current = epoch;
  }

  isLeader(): boolean {
    return this.current > 0;
  }

  epoch(): number {
    return this.current;
  }

  onChange(): void {}

  async close(): Promise<void> {}
}
