import { describe, expect, it } from 'vitest';
import {
  addResources,
  containsResources,
  flattenResources,
  isEmptyResources,
  resourceKindKey,
  resourcesByAllocationRole,
  scalarTotal,
  sortByPreference,
  subtractResources,
} from '@galley/mesos';
import { ranges, scalar, set } from './resource-fixtures.js';

const dynamic = { role: 'eng', reservation: { principal: 'p' } };
const mount = { disk: { source: { type: 'MOUNT' as const, mount: { root: '/mnt/a' } } } };

describe('resource kinds (spec §6.2)', () => {
  it.each([
    { name: 'unset role equals "*"', a: scalar('cpus', 1), b: scalar('cpus', 1, { role: '*' }), same: true },
    {
      name: 'empty reservations equal unreserved',
      a: scalar('cpus', 1, { reservations: [] }),
      b: scalar('cpus', 2),
      same: true,
    },
    { name: 'quantity does not matter', a: scalar('mem', 1), b: scalar('mem', 99), same: true },
    { name: 'different names', a: scalar('cpus', 1), b: scalar('mem', 1), same: false },
    {
      name: 'reserved vs unreserved',
      a: scalar('cpus', 1, { role: 'eng' }),
      b: scalar('cpus', 1),
      same: false,
    },
    {
      name: 'static vs dynamic legacy reservation',
      a: scalar('cpus', 1, { role: 'eng' }),
      b: scalar('cpus', 1, dynamic),
      same: false,
    },
    {
      name: 'refinement stacks differ',
      a: scalar('cpus', 1, { reservations: [{ type: 'DYNAMIC', role: 'a' }] }),
      b: scalar('cpus', 1, {
        reservations: [
          { type: 'DYNAMIC', role: 'a' },
          { type: 'DYNAMIC', role: 'a/b' },
        ],
      }),
      same: false,
    },
    {
      name: 'allocation role',
      a: scalar('cpus', 1, { allocation_info: { role: 'a' } }),
      b: scalar('cpus', 1, { allocation_info: { role: 'b' } }),
      same: false,
    },
    { name: 'revocable', a: scalar('cpus', 1, { revocable: {} }), b: scalar('cpus', 1), same: false },
    { name: 'shared', a: scalar('disk', 1, { shared: {} }), b: scalar('disk', 1), same: false },
    {
      name: 'provider',
      a: scalar('disk', 1, { provider_id: { value: 'rp' } }),
      b: scalar('disk', 1),
      same: false,
    },
    { name: 'disk source', a: scalar('disk', 1, mount), b: scalar('disk', 1), same: false },
    {
      name: 'key order inside metadata',
      a: scalar('cpus', 1, {
        reservation: { principal: 'p', labels: { labels: [{ key: 'k', value: 'v' }] } },
        role: 'r',
      }),
      b: scalar('cpus', 1, {
        role: 'r',
        reservation: { labels: { labels: [{ value: 'v', key: 'k' }] }, principal: 'p' },
      }),
      same: true,
    },
  ])('$name', ({ a, b, same }) => {
    expect(resourceKindKey(a) === resourceKindKey(b)).toBe(same);
  });
});

describe('resource arithmetic', () => {
  it('adds scalars exactly in thousandths', () => {
    expect(addResources([scalar('cpus', 0.1)], [scalar('cpus', 0.2)])).toEqual([scalar('cpus', 0.3)]);
    expect(scalarTotal([scalar('cpus', 0.1), scalar('cpus', 0.1), scalar('cpus', 0.1)], 'cpus')).toBe(0.3);
  });

  it('keeps kinds apart when adding', () => {
    const sum = addResources([scalar('cpus', 1), scalar('cpus', 2, dynamic)], [scalar('cpus', 0.5)]);
    expect(sum).toEqual([scalar('cpus', 1.5), scalar('cpus', 2, dynamic)]);
  });

  it('unites ranges and sets', () => {
    expect(addResources([ranges('ports', [[1, 5]])], [ranges('ports', [[6, 8]])])).toEqual([
      ranges('ports', [[1, 8]]),
    ]);
    expect(addResources([set('zones', ['a'])], [set('zones', ['a', 'b'])])).toEqual([
      set('zones', ['a', 'b']),
    ]);
  });

  it.each([
    { name: 'scalar', a: [scalar('mem', 1024)], b: [scalar('mem', 24)], out: [scalar('mem', 1000)] },
    { name: 'scalar to zero disappears', a: [scalar('mem', 10)], b: [scalar('mem', 10)], out: [] },
    { name: 'scalar never negative', a: [scalar('mem', 10)], b: [scalar('mem', 50)], out: [] },
    {
      name: 'other kinds untouched',
      a: [scalar('cpus', 1, dynamic)],
      b: [scalar('cpus', 1)],
      out: [scalar('cpus', 1, dynamic)],
    },
    {
      name: 'ranges split',
      a: [ranges('ports', [[100, 200]])],
      b: [ranges('ports', [[150, 150]])],
      out: [
        ranges('ports', [
          [100, 149],
          [151, 200],
        ]),
      ],
    },
    {
      name: 'set items',
      a: [set('gpus_ids', ['0', '1'])],
      b: [set('gpus_ids', ['1', '7'])],
      out: [set('gpus_ids', ['0'])],
    },
    {
      name: 'MOUNT disk only whole: part is ignored',
      a: [scalar('disk', 100, mount)],
      b: [scalar('disk', 10, mount)],
      out: [scalar('disk', 100, mount)],
    },
    {
      name: 'MOUNT disk removed whole',
      a: [scalar('disk', 100, mount)],
      b: [scalar('disk', 100, mount)],
      out: [],
    },
  ])('subtracts: $name', ({ a, b, out }) => {
    expect(subtractResources(a, b)).toEqual(out);
  });

  it('never merges two MOUNT disks', () => {
    const other = { disk: { source: { type: 'MOUNT' as const, mount: { root: '/mnt/a' } } } };
    expect(addResources([scalar('disk', 100, mount)], [scalar('disk', 100, other)])).toHaveLength(2);
  });

  it.each([
    { name: 'more of a scalar', a: [scalar('cpus', 2)], b: [scalar('cpus', 1.5)], out: true },
    { name: 'less of a scalar', a: [scalar('cpus', 1)], b: [scalar('cpus', 1.001)], out: false },
    {
      name: 'other kind does not count',
      a: [scalar('cpus', 4, dynamic)],
      b: [scalar('cpus', 1)],
      out: false,
    },
    { name: 'ranges subset', a: [ranges('ports', [[1, 10]])], b: [ranges('ports', [[2, 3]])], out: true },
    {
      name: 'ranges not subset',
      a: [ranges('ports', [[1, 10]])],
      b: [ranges('ports', [[9, 11]])],
      out: false,
    },
    { name: 'MOUNT disk part', a: [scalar('disk', 100, mount)], b: [scalar('disk', 50, mount)], out: false },
    { name: 'MOUNT disk whole', a: [scalar('disk', 100, mount)], b: [scalar('disk', 100, mount)], out: true },
    { name: 'empty', a: [], b: [], out: true },
  ])('contains: $name', ({ a, b, out }) => {
    expect(containsResources(a, b)).toBe(out);
  });

  it('knows empty resources', () => {
    expect(isEmptyResources([])).toBe(true);
    expect(isEmptyResources([scalar('cpus', 0), ranges('ports', [])])).toBe(true);
    expect(isEmptyResources([scalar('cpus', 0.001)])).toBe(false);
  });

  it('flattens reservations and allocation away, keeping totals', () => {
    const flat = flattenResources([
      scalar('cpus', 1, { ...dynamic, allocation_info: { role: 'eng' } }),
      scalar('cpus', 2, { role: '*', allocation_info: { role: 'eng' } }),
      scalar('cpus', 0.5, { reservations: [{ type: 'STATIC', role: 'x' }] }),
    ]);
    expect(flat).toEqual([scalar('cpus', 3.5)]);
  });

  it('groups by allocation role', () => {
    const groups = resourcesByAllocationRole([
      scalar('cpus', 1, { allocation_info: { role: 'a' } }),
      scalar('cpus', 1, { allocation_info: { role: 'a' } }),
      scalar('mem', 5),
    ]);
    expect(groups.get('a')).toEqual([scalar('cpus', 2, { allocation_info: { role: 'a' } })]);
    expect(groups.get('*')).toEqual([scalar('mem', 5)]);
  });

  it('puts reserved resources first', () => {
    const list = [
      scalar('cpus', 1),
      scalar('cpus', 2, dynamic),
      scalar('cpus', 3, { reservations: [{ type: 'DYNAMIC', role: 'x' }] }),
    ];
    expect(sortByPreference(list).map((r) => r.scalar?.value)).toEqual([2, 3, 1]);
  });
});
