/**
 * Offer hygiene (spec §6.5) as a pure decision: when to SUPPRESS a role, when to REVIVE it, and
 * how long declined offers stay filtered. Time is passed in; nothing here does I/O.
 */

/** Default `filters.refuse_seconds` for declined offers and ACCEPT leftovers: Marathon's 120 s. */
export const DEFAULT_REFUSE_SECONDS = 120;

/** Default minimum time between two REVIVEs of one role (ms): Marathon's 5 s. */
export const DEFAULT_REVIVE_INTERVAL_MS = 5_000;

/** Policy settings. */
export interface OfferHygieneOptions {
  /**
   * Seconds unused offers (declines and ACCEPT leftovers) stay filtered. Default 120: Mesos' own
   * 5 s default makes the same useless offer ping-pong. 0 disables the filter.
   */
  refuseSeconds?: number;
  /** Minimum ms between two REVIVEs of one role, so REVIVE never runs in a tight loop. Default 5000. */
  reviveIntervalMs?: number;
}

/** A call the policy wants sent: SUPPRESS or REVIVE of these roles (empty list = all roles). */
export interface HygieneCall {
  type: 'SUPPRESS' | 'REVIVE';
  roles: string[];
}

/** What `decide` returns: a call to send now, and/or a time (ms) to ask again (a postponed REVIVE). */
export interface HygieneDecision {
  call?: HygieneCall;
  /** Epoch ms at which to call `decide` again because a REVIVE was held back by the rate limit. */
  recheckAt?: number;
}

interface RoleState {
  suppressed: boolean;
  /** Offers of this role were declined with a filter since the last REVIVE. */
  filtered: boolean;
  /** Work was added since the last REVIVE (new instances, restarts, scale-up). */
  newWork: boolean;
  lastReviveAt: number;
}

/**
 * Per-role suppress/revive state. Use: `reset` after every SUBSCRIBED; `noteDeclined` whenever
 * offers of a role are declined (or ACCEPT leftovers refused) with a filter; `noteNewWork` when
 * a task of the role becomes waiting; then `decide(role, waiting, now)` after each round.
 * A role with nothing waiting is suppressed once; a role with work is revived when it is
 * suppressed, or when new work arrived while its offers may be filtered — at most once per
 * `reviveIntervalMs`.
 */
export class OfferHygiene {
  /** Seconds to put in `filters.refuse_seconds` of DECLINE and ACCEPT. */
  readonly refuseSeconds: number;
  /** Minimum ms between REVIVEs of one role. */
  readonly reviveIntervalMs: number;
  private readonly roles = new Map<string, RoleState>();

  constructor(options: OfferHygieneOptions = {}) {
    this.refuseSeconds = Math.max(0, options.refuseSeconds ?? DEFAULT_REFUSE_SECONDS);
    this.reviveIntervalMs = Math.max(0, options.reviveIntervalMs ?? DEFAULT_REVIVE_INTERVAL_MS);
  }

  /**
   * Forgets per-subscription state after SUBSCRIBED: roles in `suppressedRoles` (those sent in
   * SUBSCRIBE) are suppressed, others not; filters may still exist at the master.
   */
  reset(suppressedRoles: readonly string[] = []): void {
    for (const [role, state] of this.roles) {
      state.suppressed = suppressedRoles.includes(role);
      state.filtered = true;
    }
    for (const role of suppressedRoles) this.state(role).suppressed = true;
  }

  /** Records that offers of `role` were refused with a filter (DECLINE or ACCEPT leftovers). */
  noteDeclined(role: string): void {
    if (this.refuseSeconds > 0) this.state(role).filtered = true;
  }

  /** Records that a task of `role` started waiting for offers. */
  noteNewWork(role: string): void {
    this.state(role).newWork = true;
  }

  /** True when the policy believes the master suppresses offers for `role`. */
  isSuppressed(role: string): boolean {
    return this.roles.get(role)?.suppressed ?? false;
  }

  /**
   * Decides for one role. `waiting`: the role has tasks waiting for offers. `now`: epoch ms.
   * The returned call is assumed sent (the state changes accordingly).
   */
  decide(role: string, waiting: boolean, now: number): HygieneDecision {
    const state = this.state(role);
    if (!waiting) {
      state.newWork = false;
      if (state.suppressed) return {};
      state.suppressed = true;
      return { call: { type: 'SUPPRESS', roles: [role] } };
    }
    const wanted = state.suppressed || (state.newWork && state.filtered);
    if (!wanted) {
      state.newWork = false;
      return {};
    }
    const allowedAt = state.lastReviveAt + this.reviveIntervalMs;
    if (now < allowedAt) return { recheckAt: allowedAt };
    state.suppressed = false;
    state.filtered = false;
    state.newWork = false;
    state.lastReviveAt = now;
    return { call: { type: 'REVIVE', roles: [role] } };
  }

  private state(role: string): RoleState {
    let s = this.roles.get(role);
    if (s === undefined) {
      s = { suppressed: false, filtered: false, newWork: false, lastReviveAt: -Infinity };
      this.roles.set(role, s);
    }
    return s;
  }
}
