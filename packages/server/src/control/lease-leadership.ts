import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { AcquireOptions, Fence } from '../store/store.js';
import { type Leadership, SCHEDULER_LEASE } from './leadership.js';

/** Where the lease is taken: the store, or (PostgreSQL) a lease session bound to this process. */
export interface LeaseClient {
  acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    now: number,
    options?: AcquireOptions,
  ): Promise<number | null>;
  releaseLease(name: string, holder: string, epoch: number): Promise<void>;
}

export interface LeaseLeadershipOptions {
  leases: LeaseClient;
  /** This replica's id (the lease's holder). */
  id: string;
  /** How long a taken or renewed lease lasts. Renewed every third of it. */
  leaseMs: number;
  /** Wall clock: lease expiry times in the store. */
  clock: Clock;
  /** Monotonic milliseconds: this replica's own measure of how long its lease surely lasts. */
  monotonic?: () => number;
  logger: Logger;
  /** How often a follower tries to take the lease; default min(250, leaseMs / 6). */
  pollMs?: number;
}

/**
 * Leader election on the store's `scheduler` lease (a row with a holder, an expiry and an epoch
 * that grows with every new holding).
 *
 * - A follower tries to take the lease every `pollMs`: it succeeds once the lease expired, was
 *   released, or (PostgreSQL) its holder's database session ended — a leader whose process died
 *   is not waited for.
 * - The leader renews every third of the lease, only in its own epoch (`renew`): if the lease
 *   moved on, it is not taken back silently.
 * - The leader leads until `sent + leaseMs − margin` by its own monotonic clock, where `sent` is
 *   when it SENT the last successful renewal: the store's expiry is `now + leaseMs` at or after
 *   that moment, so this replica stops scheduling before anyone else can take the lease, however
 *   long the renewal took, a pause (SIGSTOP, a long GC) included: `isLeader()` reads the clock
 *   each time it is asked, not a flag a timer would have cleared.
 * - A lost lease is released (best effort), so the next holding, by anyone, has a new epoch.
 */
export class LeaseLeadership implements Leadership {
  readonly id: string;
  private current: number | null = null;
  private leadingSince: number | null = null;
  /** Monotonic time until which this replica surely holds the lease. */
  private validUntil = 0;
  private readonly listeners: ((leader: boolean) => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stepDownTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private round: Promise<void> = Promise.resolve();
  private readonly mono: () => number;
  private readonly renewMs: number;
  private readonly marginMs: number;
  private readonly pollMs: number;

  constructor(private readonly o: LeaseLeadershipOptions) {
    this.id = o.id;
    this.mono = o.monotonic ?? (() => performance.now());
    this.renewMs = Math.max(1, Math.floor(o.leaseMs / 3));
    // Room for clock-rate differences and the time between the store's `now` and sending.
    this.marginMs = Math.max(50, Math.floor(o.leaseMs / 6));
    this.pollMs = o.pollMs ?? Math.max(20, Math.min(250, Math.floor(o.leaseMs / 6)));
  }

  /** Makes a first attempt (so a replica alone leads once this resolves), then keeps competing. */
  async start(): Promise<void> {
    await this.tick();
  }

  isLeader(): boolean {
    if (this.current === null) return false;
    if (this.mono() < this.validUntil) return true;
    // The lease may be someone else's by now: step down (listeners are told on the next turn).
    queueMicrotask(() => this.lose('the lease was not renewed in time'));
    return false;
  }

  epoch(): number {
    return this.current ?? 0;
  }

  fence(): Fence {
    return { name: SCHEDULER_LEASE, epoch: this.current ?? 0 };
  }

  since(): number | null {
    return this.current === null ? null : this.leadingSince;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Gives the lease up (released at once): the next holding, by anyone, has a new epoch. */
  resign(reason: string): void {
    this.lose(reason);
  }

  /**
   * The lease session ended (PostgreSQL ended it, or it failed): another replica may hold the
   * lease already, so leadership ends now.
   */
  sessionLost(err: Error): void {
    if (this.current !== null) this.lose(`the lease session ended: ${err.message}`);
  }

  /** Stops competing; a leader releases the lease so another replica takes over at once. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.stepDownTimer) clearTimeout(this.stepDownTimer);
    await this.round.catch(() => undefined);
    const epoch = this.current;
    this.current = null;
    if (epoch !== null)
      await this.o.leases
        .releaseLease(SCHEDULER_LEASE, this.id, epoch)
        .catch((err: unknown) => this.o.logger.warn({ err }, 'leadership: the lease could not be released'));
  }

  private tick(): Promise<void> {
    this.round = this.attempt().finally(() => this.schedule());
    return this.round;
  }

  private schedule(): void {
    if (this.closed) return;
    const leading = this.current !== null;
    this.timer = setTimeout(() => void this.tick(), leading ? this.renewMs : this.pollMs);
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    const sent = this.mono();
    const renewing = this.current !== null && sent < this.validUntil ? this.current : null;
    if (this.current !== null && renewing === null) this.lose('the lease was not renewed in time');
    let epoch: number | null;
    try {
      epoch = await this.o.leases.acquireLease(
        SCHEDULER_LEASE,
        this.id,
        this.o.leaseMs,
        this.o.clock.now(),
        renewing !== null ? { renew: renewing } : { fresh: true },
      );
    } catch (err) {
      // Unknown: the lease may or may not have been renewed. Leadership lasts as it was.
      this.o.logger.warn({ err, leader: this.current !== null }, 'leadership: the lease could not be read');
      return;
    }
    if (this.closed) return;
    if (epoch === null) {
      if (this.current !== null) this.lose('another replica holds the lease');
      return;
    }
    if (renewing !== null && epoch === renewing && this.current === renewing) {
      this.extend(sent);
      return;
    }
    if (renewing !== null) {
      // Renewed an epoch this replica meanwhile gave up (a step-down while the renewal was out).
      return this.release(epoch);
    }
    this.current = epoch;
    this.leadingSince = this.o.clock.now();
    this.extend(sent);
    this.o.logger.info({ epoch, replica: this.id }, 'leadership: this replica leads');
    for (const listener of this.listeners) listener(true);
  }

  private extend(sent: number): void {
    this.validUntil = sent + this.o.leaseMs - this.marginMs;
    if (this.stepDownTimer) clearTimeout(this.stepDownTimer);
    this.stepDownTimer = setTimeout(
      () => {
        if (this.current !== null && this.mono() >= this.validUntil)
          this.lose('the lease was not renewed in time');
      },
      Math.max(0, this.validUntil - this.mono()),
    );
    this.stepDownTimer.unref();
  }

  /** Leadership ends: listeners are told, and the lease released for a quick takeover. */
  private lose(reason: string): void {
    const epoch = this.current;
    if (epoch === null) return;
    this.current = null;
    this.leadingSince = null;
    this.validUntil = 0;
    if (this.stepDownTimer) clearTimeout(this.stepDownTimer);
    this.o.logger.warn({ epoch, reason, replica: this.id }, 'leadership: this replica no longer leads');
    for (const listener of this.listeners) listener(false);
    void this.release(epoch);
    // Compete again at a follower's pace (a renewal may have been due much later).
    if (!this.closed && this.timer) {
      clearTimeout(this.timer);
      this.schedule();
    }
  }

  private async release(epoch: number): Promise<void> {
    await this.o.leases
      .releaseLease(SCHEDULER_LEASE, this.id, epoch)
      .catch((err: unknown) => this.o.logger.debug({ err }, 'leadership: the lease could not be released'));
  }
}
