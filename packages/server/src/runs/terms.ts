import type { Logger } from 'pino';
import type { Backend, BackendEvent } from '../backends/backend.js';
import type { Clock } from '../clock.js';
import type { ControlLoop } from '../control/control-loop.js';
import type { Leadership, TermLeadership } from '../control/leadership.js';
import type { RunRepository } from '../store/store.js';
import type { DispatchLoop } from './dispatch-loop.js';
import { recover } from './recovery.js';
import type { RunWriter } from './run-writer.js';
import { killPendingStops, type StopContext } from './stops.js';
import type { WaitingWork } from './waiting-work.js';

/** What leadership terms work with. */
export interface TermsOptions {
  leadership: Leadership;
  /** The pipeline controller's view of leadership: its terms begin and end with these. */
  terms?: TermLeadership;
  store: RunRepository;
  backends: readonly Backend[];
  clock: Clock;
  logger: Logger;
  /** The run controller's serial loop (every change to runs goes through it). */
  loop: ControlLoop;
  writer: RunWriter;
  work: WaitingWork;
  dispatch: DispatchLoop;
  stops: StopContext;
  /** Logs a failed step and asks for a retry round. */
  fail: (what: string, err: unknown) => void;
}

/**
 * The run controller's leadership terms: each time this replica becomes the leader it takes over,
 * each time it stops leading it steps down, one after the other (a term never begins before the
 * last one ended). Everything a term knows is rebuilt from the store at takeover, so a restart or a
 * failover is the same thing as a new term; a leader whose takeover failed does not hold the lease
 * without running backends.
 */
export class LeadershipTerms {
  /** Terms, taken over and stepped down from one after the other. */
  private chain: Promise<void> = Promise.resolve();
  /** A term is open: this replica took over (its backends run) and has not stepped down. */
  private open = false;
  /** Hands the pipeline launches in flight to the backends, at the start of each term. */
  private handOver: (() => Promise<void>) | undefined;

  constructor(private readonly o: TermsOptions) {}

  /**
   * Competes for leadership. Resolves once the first attempt at leadership is made and, when it
   * won, the takeover is done.
   */
  async follow(handOver?: () => Promise<void>): Promise<void> {
    this.handOver = handOver;
    this.o.leadership.onChange((leader) => this.changed(leader));
    await this.o.leadership.start();
    await this.chain;
  }

  /** Whether this replica leads and its term is open (its backends run). */
  leads(): boolean {
    return this.open && this.o.leadership.isLeader();
  }

  /** Settles once the current term change is done. */
  settled(): Promise<void> {
    return this.chain;
  }

  private changed(leader: boolean): void {
    this.chain = this.chain.then(async () => {
      if (!leader) return this.stepDown().catch((err: unknown) => this.o.fail('step-down', err));
      try {
        await this.takeOver();
      } catch (err) {
        // A leader whose takeover failed must not hold the lease without running backends:
        // it resigns (another replica, or this one anew, takes over); alone, it tries again.
        this.o.fail('takeover', err);
        if (this.o.loop.isClosed || !this.o.leadership.isLeader()) return;
        if (this.o.leadership.resign) this.o.leadership.resign('its takeover failed');
        else
          setTimeout(() => {
            if (!this.o.loop.isClosed && this.o.leadership.isLeader() && !this.open) this.changed(true);
          }, 1_000).unref();
      }
    });
  }

  /**
   * A term begins: hands each backend the work it has in flight (runs here, pipeline launches
   * through `handOver`) and applies what it answers, then starts the backends and dispatches.
   * Work is handed over before a backend starts, so it knows every task it may hear of (Mesos: the
   * new leader subscribes with the stored framework id, which cuts the old leader's connection,
   * and reconciles).
   */
  private async takeOver(): Promise<void> {
    const { leadership, loop } = this.o;
    if (!leadership.isLeader() || loop.isClosed) return;
    this.o.logger.info({ epoch: leadership.epoch() }, 'runs: taking over as the leader');
    this.o.terms?.begin();
    const relaunch = await loop.serial(async () => {
      const recovered = await recover(
        this.o.store,
        this.o.backends,
        (events: BackendEvent[]) => this.o.writer.applyBackendEvents(events),
        () => this.o.clock.now(),
      );
      return recovered.relaunch;
    });
    await this.handOver?.();
    const hygiene = this.o.work.clustersWithHygiene();
    if (hygiene.length > 0)
      for (const run of await this.o.store.queuedRuns(hygiene, 1_000_000)) this.o.work.observe(run);
    if (!leadership.isLeader()) return;
    for (const backend of this.o.backends) await backend.start();
    this.o.work.reportAll();
    // Open before the sweep of stops: a stop recorded until now (as by a follower) is found by
    // it, one recorded after is carried out at once.
    this.open = true;
    await loop.serial(async () => {
      if (!leadership.isLeader()) return;
      for (const [cluster, specs] of relaunch)
        await this.o.backends.find((b) => b.cluster === cluster)?.launch({ runs: specs, groups: [] });
      await killPendingStops(this.o.stops);
    });
    await loop.serial(() => this.o.dispatch.refreshTimer());
    this.o.terms?.open();
    loop.wake();
  }

  /**
   * A term ends: the backends close (their attempts keep running, for the next leader to find)
   * and what this replica knew of the term is forgotten; the store has it all.
   */
  private async stepDown(): Promise<void> {
    this.open = false;
    this.o.terms?.end();
    this.o.logger.warn({}, 'runs: stepping down; the backends close, their work keeps running');
    for (const backend of this.o.backends)
      await backend
        .close()
        .catch((err: unknown) => this.o.logger.warn({ err }, 'runs: a backend did not close'));
    await this.o.loop
      .serial(async () => {
        this.o.dispatch.clear();
        this.o.writer.clear();
        this.o.work.clear();
      })
      .catch(() => undefined);
  }
}
