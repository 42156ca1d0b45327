import { describe, expect, it } from 'vitest';
import { DEFAULT_REFUSE_SECONDS, OfferBook, OfferHygiene } from '@galley/mesos';
import { offer, scalar } from './resource-fixtures.js';

describe('offer hygiene (spec §6.5)', () => {
  it('declines for 120 s by default, not Mesos’ ping-pong 5 s', () => {
    expect(new OfferHygiene().refuseSeconds).toBe(120);
    expect(DEFAULT_REFUSE_SECONDS).toBe(120);
    expect(new OfferHygiene({ refuseSeconds: -3 }).refuseSeconds).toBe(0);
  });

  it('suppresses an idle role once, and revives it when work comes back', () => {
    const h = new OfferHygiene({ reviveIntervalMs: 1000 });
    expect(h.decide('r', false, 0)).toEqual({ call: { type: 'SUPPRESS', roles: ['r'] } });
    expect(h.decide('r', false, 10)).toEqual({});
    expect(h.isSuppressed('r')).toBe(true);
    expect(h.decide('r', true, 2000)).toEqual({ call: { type: 'REVIVE', roles: ['r'] } });
    expect(h.isSuppressed('r')).toBe(false);
    expect(h.decide('r', true, 2001)).toEqual({});
  });

  it('rate-limits REVIVE and says when to ask again', () => {
    const h = new OfferHygiene({ reviveIntervalMs: 1000 });
    h.decide('r', false, 0);
    expect(h.decide('r', true, 0).call?.type).toBe('REVIVE');
    h.decide('r', false, 10);
    expect(h.decide('r', true, 20)).toEqual({ recheckAt: 1000 });
    expect(h.decide('r', true, 999)).toEqual({ recheckAt: 1000 });
    expect(h.decide('r', true, 1000).call?.type).toBe('REVIVE');
  });

  it('revives for new work only when offers may be filtered by earlier declines', () => {
    const h = new OfferHygiene({ reviveIntervalMs: 0 });
    h.noteNewWork('r');
    expect(h.decide('r', true, 0)).toEqual({});
    h.noteDeclined('r');
    expect(h.decide('r', true, 1)).toEqual({});
    h.noteNewWork('r');
    expect(h.decide('r', true, 2).call?.type).toBe('REVIVE');
  });

  it('forgets per-subscription state on reset: filters may still exist, suppression does not', () => {
    const h = new OfferHygiene({ reviveIntervalMs: 0 });
    h.decide('r', false, 0);
    h.reset([]);
    expect(h.isSuppressed('r')).toBe(false);
    h.noteNewWork('r');
    expect(h.decide('r', true, 1).call?.type).toBe('REVIVE');
    h.reset(['q']);
    expect(h.isSuppressed('q')).toBe(true);
  });

  it('does not record filters when declines carry none', () => {
    const h = new OfferHygiene({ refuseSeconds: 0, reviveIntervalMs: 0 });
    h.noteDeclined('r');
    h.noteNewWork('r');
    expect(h.decide('r', true, 0)).toEqual({});
  });
});

describe('offer book', () => {
  it('groups offers by agent and role, and forgets them once taken', () => {
    const book = new OfferBook();
    const a1 = offer('A', [scalar('cpus', 1)], { role: 'x' });
    const b1 = offer('B', [scalar('cpus', 1)], { role: 'x' });
    const a2 = offer('A', [scalar('cpus', 1)], { role: 'x' });
    const a3 = offer('A', [scalar('cpus', 1)], { role: 'y' });
    book.add([a1, b1, a2, a3]);
    expect(book.size).toBe(4);
    const groups = book.takeGroups();
    expect(groups.map((g) => [g.agentId, g.role, g.offers.map((o) => o.id.value)])).toEqual([
      ['A', 'x', [a1.id.value, a2.id.value]],
      ['B', 'x', [b1.id.value]],
      ['A', 'y', [a3.id.value]],
    ]);
    expect(book.size).toBe(0);
  });

  it('drops rescinded offers and everything on disconnect', () => {
    const book = new OfferBook();
    const a = offer('A', []);
    const b = offer('B', []);
    book.add([a, b]);
    expect(book.rescind(a.id.value)).toBe(a);
    expect(book.rescind(a.id.value)).toBeUndefined();
    expect(book.get(b.id.value)).toBe(b);
    expect(book.clear()).toEqual([b]);
    expect(book.takeGroups()).toEqual([]);
  });
});
