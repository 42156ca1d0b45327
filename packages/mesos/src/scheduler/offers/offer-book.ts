import type { Offer } from '../../types/index.js';
import { offerRole } from './pool.js';

/** Offers of one agent allocated to one role: what one ACCEPT may use together. */
export interface OfferGroup {
  agentId: string;
  /** `allocation_info.role`, or `undefined` for a framework without MULTI_ROLE. */
  role: string | undefined;
  offers: Offer[];
}

/**
 * The offers the framework holds right now (spec §6.5). An offer leaves the book when it is
 * taken (used in one ACCEPT or DECLINE), rescinded, or on any disconnect (`clear`): offers are
 * single-use and die with the subscription.
 */
export class OfferBook {
  private readonly offers = new Map<string, Offer>();

  /** The number of offers held. */
  get size(): number {
    return this.offers.size;
  }

  /** Adds offers from an OFFERS event; an id already held is replaced. */
  add(offers: readonly Offer[]): void {
    for (const offer of offers) this.offers.set(offer.id.value, offer);
  }

  /** The held offer with this id, or `undefined`. */
  get(offerId: string): Offer | undefined {
    return this.offers.get(offerId);
  }

  /** Drops a rescinded offer; returns it, or `undefined` if it was not held. */
  rescind(offerId: string): Offer | undefined {
    const offer = this.offers.get(offerId);
    this.offers.delete(offerId);
    return offer;
  }

  /** Drops every offer (on disconnect or re-subscription, where they all became invalid); returns them. */
  clear(): Offer[] {
    const all = [...this.offers.values()];
    this.offers.clear();
    return all;
  }

  /**
   * Removes and returns every held offer, grouped by agent and role, groups in the order their
   * first offer arrived. The caller must ACCEPT or DECLINE each group's offers.
   */
  takeGroups(): OfferGroup[] {
    const groups = new Map<string, OfferGroup>();
    for (const offer of this.offers.values()) {
      const role = offerRole(offer);
      const key = `${offer.agent_id.value}\u0000${role ?? ''}`;
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = { agentId: offer.agent_id.value, role, offers: [] }));
      group.offers.push(offer);
    }
    this.offers.clear();
    return [...groups.values()];
  }
}
