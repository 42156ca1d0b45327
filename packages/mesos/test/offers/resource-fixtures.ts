import type { Offer, Resource } from '@galley/mesos';

/** Metadata shared by the builders below (role, reservations, allocation_info, disk, …). */
export type Meta = Omit<Resource, 'name' | 'type' | 'scalar' | 'ranges' | 'set'>;

export function scalar(name: string, value: number, meta: Meta = {}): Resource {
  return { name, type: 'SCALAR', scalar: { value }, ...meta };
}

export function ranges(name: string, list: [number, number][], meta: Meta = {}): Resource {
  return { name, type: 'RANGES', ranges: { range: list.map(([begin, end]) => ({ begin, end })) }, ...meta };
}

export function set(name: string, items: string[], meta: Meta = {}): Resource {
  return { name, type: 'SET', set: { item: items }, ...meta };
}

let offerSerial = 0;

/** An offer of `agent` with `resources`; `role` sets allocation_info on the offer and every resource. */
export function offer(
  agent: string,
  resources: Resource[],
  options: { role?: string; executors?: string[] } = {},
): Offer {
  offerSerial += 1;
  const allocation = options.role === undefined ? {} : { allocation_info: { role: options.role } };
  return {
    id: { value: `O${offerSerial}` },
    framework_id: { value: 'F1' },
    agent_id: { value: agent },
    hostname: `${agent}.example.com`,
    resources: resources.map((r) => ({ ...r, ...allocation })),
    executor_ids: (options.executors ?? []).map((value) => ({ value })),
    ...allocation,
  };
}

/** A sequence of numbers in [0, 1) from a seed, for replayable port picking. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}
