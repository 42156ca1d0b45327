import { describe, expect, it } from 'vitest';
import { CoreInputError, parseConstraint, place } from '@galley/core';
import type { Demand, Node } from '@galley/core';

let clock = 0;
function demand(id: string, fields: Partial<Demand> = {}): Demand {
  return { id, cpus: 1, memMb: 128, diskMb: 0, gpus: 0, ports: 0, queuedAt: ++clock, ...fields };
}
function node(id: string, free: Partial<Node['free']> = {}, extra: Partial<Node> = {}): Node {
  return {
    id,
    hostname: `${id}.example`,
    attributes: {},
    free: { cpus: 4, memMb: 4096, diskMb: 10_000, gpus: 0, portRanges: [[31000, 31009]], ...free },
    ...extra,
  };
}
const reasonOf = (demands: Demand[], nodes: Node[], id: string): string | undefined =>
  place(demands, nodes).unplaced.find((u) => u.demandId === id)?.reason;

describe('place: one reason per unplaced demand, computed from the nodes', () => {
  const table: [string, Demand[], Node[], string][] = [
    ['no nodes at all', [demand('d')], [], 'no capacity offered yet'],
    [
      'not enough cpus anywhere',
      [demand('d', { cpus: 4 })],
      [node('a', { cpus: 2 }), node('b', { cpus: 1.5 })],
      'needs 4 cpus; the largest free on any node is 2',
    ],
    [
      'fractional cpus',
      [demand('d', { cpus: 0.5 })],
      [node('a', { cpus: 0.25 })],
      'needs 0.5 cpus; the largest free on any node is 0.25',
    ],
    [
      'not enough memory',
      [demand('d', { memMb: 8192 })],
      [node('a', { memMb: 2048 })],
      'needs 8192 MB of memory; the largest free on any node is 2048 MB',
    ],
    [
      'not enough disk',
      [demand('d', { diskMb: 500 })],
      [node('a', { diskMb: 100 })],
      'needs 500 MB of disk; the largest free on any node is 100 MB',
    ],
    [
      'a gpu where none is free',
      [demand('d', { gpus: 1 })],
      [node('a')],
      'needs 1 gpu; no node has a free gpu',
    ],
    [
      'a role no node has',
      [demand('d', { role: 'gpu' })],
      [node('a'), node('b', {}, { role: 'batch' })],
      'no node has role "gpu"',
    ],
    [
      'a constraint no node meets',
      [demand('d', { constraints: [parseConstraint('zone:a')] })],
      [node('a', {}, { attributes: { zone: 'b' } })],
      'no node matches zone:a',
    ],
    [
      'a constraint no node of the role meets',
      [demand('d', { role: 'gpu', constraints: [parseConstraint('zone:a')] })],
      [
        node('a', {}, { role: 'gpu', attributes: { zone: 'b' } }),
        node('b', {}, { attributes: { zone: 'a' } }),
      ],
      'no node with role "gpu" matches zone:a',
    ],
    [
      'constraints met only separately',
      [demand('d', { constraints: [parseConstraint('zone:a'), parseConstraint('rack in r1,r2')] })],
      [
        node('a', {}, { attributes: { zone: 'a', rack: 'r9' } }),
        node('b', {}, { attributes: { zone: 'b', rack: 'r1' } }),
      ],
      'no node matches zone:a and rack in r1,r2 together',
    ],
    [
      'cpus lacking on the nodes of its role',
      [demand('d', { role: 'gpu', cpus: 8 })],
      [node('a', { cpus: 2 }, { role: 'gpu' }), node('b', { cpus: 16 })],
      'needs 8 cpus; the largest free on any node with role "gpu" is 2',
    ],
    [
      'a port where none is free',
      [demand('d', { ports: 1 })],
      [node('a', { portRanges: [] })],
      'needs 1 port; no node has a free port',
    ],
    [
      'more ports than any node has',
      [demand('d', { ports: 3 })],
      [node('a', { portRanges: [[8000, 8001]] })],
      'needs 3 ports; the most free on any node is 2',
    ],
    [
      'a fixed port taken everywhere',
      [demand('d', { fixedPorts: [8080] })],
      [node('a', { portRanges: [[9000, 9100]] })],
      'needs port 8080; it is not free on any node',
    ],
    [
      'resources that never meet on one node',
      [demand('d', { cpus: 4, memMb: 4096 })],
      [node('a', { cpus: 4, memMb: 1024 }), node('b', { cpus: 1, memMb: 8192 })],
      'needs 4 cpus and 4096 MB of memory on one node; no node has all of them free',
    ],
    [
      'fits, but three older runs took the room',
      [
        demand('o1', { cpus: 1 }),
        demand('o2', { cpus: 1 }),
        demand('o3', { cpus: 2 }),
        demand('d', { cpus: 2 }),
      ],
      [node('a', { cpus: 4 })],
      'waiting behind 3 older runs',
    ],
    [
      'fits, but one older run took the room',
      [demand('o1', { cpus: 3 }), demand('d', { cpus: 2 })],
      [node('a', { cpus: 4 })],
      'waiting behind 1 older run',
    ],
  ];
  it.each(table)('%s', (_name, demands, nodes, reason) => {
    expect(reasonOf(demands, nodes, 'd')).toBe(reason);
  });
});

describe('place: fitting and packing', () => {
  it('places several demands on one node while its capacity lasts, oldest first', () => {
    const demands = [demand('old', { cpus: 2 }), demand('mid', { cpus: 2 }), demand('young', { cpus: 1 })];
    const result = place([...demands].reverse(), [node('a', { cpus: 4 })]);
    expect(result.placements.map((p) => p.demandId)).toEqual(['old', 'mid']);
    expect(result.unplaced).toEqual([{ demandId: 'young', reason: 'waiting behind 2 older runs' }]);
  });

  it('priority breaks ties between demands queued at the same moment', () => {
    const result = place(
      [demand('low', { cpus: 3, queuedAt: 5 }), demand('high', { cpus: 3, queuedAt: 5, priority: 10 })],
      [node('a', { cpus: 4 })],
    );
    expect(result.placements.map((p) => p.demandId)).toEqual(['high']);
  });

  it('a lower tier goes first whatever its age (pipeline launches before queued runs)', () => {
    const result = place(
      [
        demand('old-run', { cpus: 3, queuedAt: 1, tier: 1 }),
        demand('new-launch', { cpus: 3, queuedAt: 9, tier: 0 }),
      ],
      [node('a', { cpus: 4 })],
    );
    expect(result.placements.map((p) => p.demandId)).toEqual(['new-launch']);
    expect(result.unplaced.map((u) => u.demandId)).toEqual(['old-run']);
  });

  it('best fit: a small demand takes the tight hole and leaves the big node for a big demand', () => {
    const result = place(
      [demand('small', { cpus: 1 }), demand('big', { cpus: 8 })],
      [node('big-node', { cpus: 8 }), node('small-node', { cpus: 1.5 })],
    );
    expect(result.placements).toEqual([
      { demandId: 'small', nodeId: 'small-node', ports: [] },
      { demandId: 'big', nodeId: 'big-node', ports: [] },
    ]);
  });

  it('keeps GPU nodes for GPU work', () => {
    const result = place(
      [demand('cpu-only', { cpus: 1 }), demand('trainer', { cpus: 4, gpus: 1 })],
      [node('gpu-node', { cpus: 4, gpus: 1 }), node('plain', { cpus: 8 })],
    );
    expect(result.placements).toEqual([
      { demandId: 'cpu-only', nodeId: 'plain', ports: [] },
      { demandId: 'trainer', nodeId: 'gpu-node', ports: [] },
    ]);
  });

  it('fractional cpus add up exactly in thousandths (0.1 + 0.2 fit in 0.3)', () => {
    const result = place(
      [demand('x', { cpus: 0.1 }), demand('y', { cpus: 0.2 })],
      [node('a', { cpus: 0.3 })],
    );
    expect(result.placements).toHaveLength(2);
  });

  it('gives fixed ports first, then the lowest free ports, never the same port twice on a node', () => {
    const result = place(
      [demand('web', { fixedPorts: [31001], ports: 2 }), demand('api', { ports: 2 })],
      [node('a', { portRanges: [[31000, 31004]] })],
    );
    expect(result.placements).toEqual([
      { demandId: 'web', nodeId: 'a', ports: [31001, 31000, 31002] },
      { demandId: 'api', nodeId: 'a', ports: [31003, 31004] },
    ]);
  });

  it('a role-less demand may land on a node with a role; a demand with a role only on its role', () => {
    const result = place(
      [demand('any', { cpus: 1 }), demand('gpu-job', { role: 'gpu', cpus: 1 })],
      [node('r', { cpus: 1 }, { role: 'gpu' }), node('s', { cpus: 2 }, { role: 'gpu' })],
    );
    expect(result.placements.map((p) => [p.demandId, p.nodeId])).toEqual([
      ['any', 'r'],
      ['gpu-job', 's'],
    ]);
  });

  it('constraints choose the node', () => {
    const result = place(
      [demand('d', { constraints: [parseConstraint('zone!=a')] })],
      [node('a', {}, { attributes: { zone: 'a' } }), node('b', {}, { attributes: { zone: 'b' } })],
    );
    expect(result.placements[0]?.nodeId).toBe('b');
  });

  it('refuses duplicate demand ids and impossible amounts with a code', () => {
    expect(() => place([demand('x'), demand('x')], [node('a')])).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_DEMAND' }),
    );
    expect(() => place([demand('x', { cpus: -1 })], [node('a')])).toThrow(CoreInputError);
  });
});
