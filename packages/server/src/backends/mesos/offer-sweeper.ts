import { offerRole, type MesosScheduler, type Offer, type OfferHygiene } from '@galley/mesos';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { BackendEvent } from '../backend.js';
import type { AttemptTable } from './attempts.js';
import type { MesosSettings } from '../../config/mesos-settings.js';
import { expireUnreachable } from './task-updates.js';

/** `refuse_seconds` of an offer declined while work waits for its role: Mesos' own default filter. */
export const WAITING_REFUSE_SECONDS = 5;

/** What the sweeper works with. */
export interface OfferSweeperOptions {
  settings: MesosSettings;
  clock: Clock;
  table: AttemptTable;
  /** How much work waits for offers of a role (runs and pipeline launches, as the run controller says). */
  waiting: (role: string) => number;
  hygiene: OfferHygiene;
  /** The framework's roles. */
  roles: readonly string[];
  /** The scheduler while it is subscribed, else null. */
  scheduler: () => MesosScheduler | null;
  deliver: (events: BackendEvent[]) => void;
  kill: (taskId: string, agentId: string | undefined) => Promise<void>;
  logger: Logger;
}

/**
 * The backend's periodic, level-triggered housekeeping (spec §5, §6.5):
 * - declines held offers nothing used: at once for a role with nothing waiting, otherwise once
 *   held `offerHoldMs` (a dispatch round had its chance) with Mesos' default 5 s filter, and with
 *   `refuse_seconds` when nothing waits; never offers an
 *   open dispatch round holds;
 * - SUPPRESSes roles with nothing waiting and REVIVEs roles with new work (OfferHygiene);
 * - gives up tasks unreachable past `unreachableTimeoutMs` (host failure, and a KILL in case
 *   the agent returns);
 * - reconciles launches with no status update within `launchTimeoutMs`.
 */
export class OfferSweeper {
  private readonly heldSince = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private recheck: NodeJS.Timeout | null = null;
  private queued = false;
  /** Offers an open dispatch round places onto, by round: not declined until the round closes. */
  private readonly held = new Map<number, ReadonlySet<string>>();
  private nextHold = 0;
  private readonly tickMs: number;

  constructor(private readonly o: OfferSweeperOptions) {
    this.tickMs = Math.min(1_000, Math.max(10, Math.floor(o.settings.offerHoldMs / 2)));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.recheck) clearTimeout(this.recheck);
    this.timer = null;
    this.recheck = null;
  }

  /** Runs a sweep soon (after the current event), coalescing many requests into one. */
  soon(): void {
    if (this.queued || this.timer === null) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      if (this.timer !== null) this.tick();
    });
  }

  /** Records when offers arrived (their hold time starts). */
  noteOffers(offers: readonly Offer[]): void {
    const now = this.o.clock.now();
    for (const offer of offers) this.heldSince.set(offer.id.value, now);
    this.soon();
  }

  /** Keeps these offers from being declined until `release(hold)` (an open dispatch round uses them). */
  hold(offers: Iterable<Offer>): number {
    const id = ++this.nextHold;
    this.held.set(id, new Set([...offers].map((o) => o.id.value)));
    return id;
  }

  /** The dispatch round closed: its offers are used, or may be declined again. */
  release(hold: number): void {
    this.held.delete(hold);
  }

  private isHeld(offerId: string): boolean {
    for (const ids of this.held.values()) if (ids.has(offerId)) return true;
    return false;
  }

  /** Forgets an offer that was used, declined or rescinded. */
  forget(offerId: string): void {
    this.heldSince.delete(offerId);
  }

  /** After SUBSCRIBED: old offers are gone; roles with waiting runs are revived (filters may remain). */
  subscribed(hygiene: OfferHygiene): void {
    this.heldSince.clear();
    hygiene.reset([]);
    for (const role of this.o.roles) {
      if (this.o.waiting(role) === 0) continue;
      hygiene.noteDeclined(role);
      hygiene.noteNewWork(role);
    }
    this.soon();
  }

  /** An agent was removed (FAILURE without executor): its tasks count as unreachable from now. */
  agentLost(agentId: string): void {
    const now = this.o.clock.now();
    for (const t of this.o.table.values()) {
      if (t.agentId !== agentId || t.unreachableSince !== null) continue;
      this.o.table.markUnreachable(t, now);
    }
  }

  private tick(): void {
    const now = this.o.clock.now();
    const s = this.o.scheduler();
    if (s) {
      this.declineUnused(s, now);
      this.reconcileStaleLaunches(s, now);
      this.decideHygiene(s, now);
    }
    const { events, kills } = expireUnreachable(this.o.table, now, this.o.settings.unreachableTimeoutMs);
    if (events.length > 0) {
      this.o.logger.warn({ attempts: events.map((e) => e.attemptId) }, 'mesos: giving up unreachable tasks');
      this.o.deliver(events);
      for (const k of kills) void this.o.kill(k.taskId, k.agentId);
    }
  }

  private declineUnused(s: MesosScheduler, now: number): void {
    const decline: Offer[] = [];
    const held = new Set<string>();
    for (const offer of s.offers.values()) {
      const id = offer.id.value;
      held.add(id);
      let since = this.heldSince.get(id);
      if (since === undefined) this.heldSince.set(id, (since = now));
      if (this.isHeld(id)) continue;
      const role = offerRole(offer) ?? '*';
      if (this.o.waiting(role) === 0 || now - since >= this.o.settings.offerHoldMs) decline.push(offer);
    }
    for (const id of this.heldSince.keys()) if (!held.has(id)) this.heldSince.delete(id);
    if (decline.length === 0) return;
    const byRefuse = new Map<number, Offer[]>();
    for (const offer of decline) {
      this.heldSince.delete(offer.id.value);
      const role = offerRole(offer) ?? '*';
      // An offer no round used while work waits for its role (it did not fit, or its queue was at
      // its share) comes back after Mesos' default filter; the long filter is for an idle role.
      // Declined for two minutes, a backlog that could use the agent a moment later would wait
      // for it until new work revived the role.
      const refuse =
        this.o.waiting(role) > 0
          ? Math.min(WAITING_REFUSE_SECONDS, this.o.settings.refuseSeconds)
          : this.o.settings.refuseSeconds;
      this.o.hygiene.noteDeclined(role);
      byRefuse.set(refuse, [...(byRefuse.get(refuse) ?? []), offer]);
    }
    for (const [refuse, offers] of byRefuse) {
      s.decline(
        offers.map((o) => o.id),
        { refuse_seconds: refuse },
      ).catch((err: unknown) =>
        this.o.logger.debug({ err }, 'mesos: DECLINE failed (the offers die anyway)'),
      );
    }
  }

  private reconcileStaleLaunches(s: MesosScheduler, now: number): void {
    const stale = this.o.table.staleLaunches(now, this.o.settings.launchTimeoutMs).map((t) => ({
      task_id: { value: t.attemptId },
      ...(t.agentId ? { agent_id: { value: t.agentId } } : {}),
    }));
    if (stale.length === 0) return;
    this.o.logger.info({ tasks: stale.length }, 'mesos: launches without an update; reconciling them');
    s.reconcileTasks(stale).catch((err: unknown) =>
      this.o.logger.debug({ err }, 'mesos: RECONCILE failed; tried again later'),
    );
  }

  private decideHygiene(s: MesosScheduler, now: number): void {
    let recheckAt: number | null = null;
    for (const role of this.o.roles) {
      const decision = this.o.hygiene.decide(role, this.o.waiting(role) > 0, now);
      if (decision.recheckAt !== undefined) recheckAt = Math.min(recheckAt ?? Infinity, decision.recheckAt);
      const call = decision.call;
      if (!call) continue;
      this.o.logger.debug({ call: call.type, roles: call.roles }, 'mesos: offer hygiene');
      const sent = call.type === 'SUPPRESS' ? s.suppress(call.roles) : s.revive(call.roles);
      sent.catch((err: unknown) =>
        this.o.logger.debug({ err, call: call.type }, 'mesos: hygiene call failed'),
      );
    }
    if (recheckAt !== null && this.recheck === null && this.timer !== null) {
      this.recheck = setTimeout(
        () => {
          this.recheck = null;
          this.soon();
        },
        Math.max(0, recheckAt - now),
      );
      this.recheck.unref();
    }
  }
}
