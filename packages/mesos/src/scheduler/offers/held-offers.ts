/**
 * The offers a scheduler currently holds, by offer id. Offers die on RESCIND, when used in one
 * ACCEPT/DECLINE, and on every disconnect (spec §1.8, §9.13), so the cache is cleared then.
 */
import type { Offer } from '../../types/index.js';

/** A read-only view of the held offers. */
export interface HeldOffers {
  readonly size: number;
  get(offerId: string): Offer | undefined;
  has(offerId: string): boolean;
  values(): IterableIterator<Offer>;
}

/** Mutable offer cache kept by the scheduler. */
export class OfferCache implements HeldOffers {
  private readonly offers = new Map<string, Offer>();

  get size(): number {
    return this.offers.size;
  }
  get(offerId: string): Offer | undefined {
    return this.offers.get(offerId);
  }
  has(offerId: string): boolean {
    return this.offers.has(offerId);
  }
  values(): IterableIterator<Offer> {
    return this.offers.values();
  }
  add(offers: readonly Offer[] | undefined): void {
    for (const offer of offers ?? []) this.offers.set(offer.id.value, offer);
  }
  remove(offerIds: Iterable<string>): void {
    for (const id of offerIds) this.offers.delete(id);
  }
  clear(): void {
    this.offers.clear();
  }
}
