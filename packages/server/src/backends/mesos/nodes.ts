import type { Node } from '@galley/core';
import { ResourcePool, offerRole, type Attribute, type Offer } from '@galley/mesos';

/**
 * Held offers as @galley/core placement nodes: the offers of one agent allocated to one role make
 * one node (what one ACCEPT may use together), with their free cpus, memory, disk, gpus, port
 * ranges, the agent's attributes (plus `galley.agent`, and `galley.images` when known) and the
 * role. Pure.
 */

/** The attribute every node carries with its agent id, so a retried run can avoid the agent that failed it. */
export const AGENT_ATTRIBUTE = 'galley.agent';

/**
 * The attribute saying whether a node runs images (`images.ts`): `mesos`, `docker`, or `none` — a
 * run with an image is never placed on `none`. The run controller's demand names it too.
 */
export const IMAGES_NODE_ATTRIBUTE = 'galley.images';

/** What a node's `galley.images` is, by agent id; undefined = leave it out. */
export type ImagesAttribute = (agentId: string) => string | undefined;

/** The node id of an agent's offers for a role: `<agent id> <role>` (neither may contain a space). */
export function nodeIdOf(agentId: string, role: string | undefined): string {
  return `${agentId} ${role ?? '*'}`;
}

/** The agent id and role of a node id made by `nodeIdOf`; null for anything else. */
export function parseNodeId(nodeId: string): { agentId: string; role: string } | null {
  const cut = nodeId.indexOf(' ');
  if (cut <= 0) return null;
  return { agentId: nodeId.slice(0, cut), role: nodeId.slice(cut + 1) };
}

/** An attribute's value as text: TEXT as is, SCALAR as a number, SET and RANGES as lists. */
export function attributeText(a: Attribute): string {
  switch (a.type) {
    case 'TEXT':
      return a.text?.value ?? '';
    case 'SCALAR':
      return String(a.scalar?.value ?? '');
    case 'SET':
      return (a.set?.item ?? []).join(',');
    case 'RANGES':
      return (a.ranges?.range ?? []).map((r) => `${r.begin}-${r.end}`).join(',');
    default:
      return '';
  }
}

/** Groups offers by agent and role, in arrival order of each group's first offer. */
export function groupOffers(offers: Iterable<Offer>): Map<string, Offer[]> {
  const groups = new Map<string, Offer[]>();
  for (const offer of offers) {
    const id = nodeIdOf(offer.agent_id.value, offerRole(offer));
    const list = groups.get(id);
    if (list) list.push(offer);
    else groups.set(id, [offer]);
  }
  return groups;
}

/** One node from the offers of one agent and role. */
export function nodeOf(id: string, offers: readonly Offer[], images?: ImagesAttribute): Node {
  const first = offers[0]!;
  const pool = new ResourcePool(offers);
  const portRanges: [number, number][] = [];
  for (const r of pool.remaining()) {
    if (r.name !== 'ports' || r.type !== 'RANGES' || r.revocable) continue;
    for (const range of r.ranges?.range ?? []) portRanges.push([Number(range.begin), Number(range.end)]);
  }
  portRanges.sort((a, b) => a[0] - b[0]);
  const attributes: Record<string, string> = { hostname: first.hostname };
  for (const a of first.attributes ?? []) attributes[a.name] = attributeText(a);
  attributes[AGENT_ATTRIBUTE] = first.agent_id.value;
  const runsImages = images?.(first.agent_id.value);
  if (runsImages !== undefined) attributes[IMAGES_NODE_ATTRIBUTE] = runsImages;
  const role = offerRole(first);
  return {
    id,
    hostname: first.hostname,
    ...(role !== undefined ? { role } : {}),
    attributes,
    free: {
      cpus: pool.available('cpus'),
      memMb: pool.available('mem'),
      diskMb: pool.available('disk'),
      gpus: pool.available('gpus'),
      portRanges,
    },
  };
}

/** Every held offer as nodes (one per agent and role). */
export function nodesOf(offers: Iterable<Offer>, images?: ImagesAttribute): Node[] {
  return [...groupOffers(offers)].map(([id, group]) => nodeOf(id, group, images));
}

/**
 * `nodesOf` for every dispatch round, reusing the node of an agent whose held offers (the same
 * offer objects) and `galley.images` did not change since the last call: with 1,000 agents,
 * making every node again (a resource pool per agent) was a tenth of the server's CPU at scale.
 * Nodes are never modified by their users (placement copies what it counts down).
 */
export class NodeCache {
  private readonly cache = new Map<
    string,
    { offers: readonly Offer[]; images: string | undefined; node: Node }
  >();

  nodesOf(offers: Iterable<Offer>, images?: ImagesAttribute): Node[] {
    const groups = groupOffers(offers);
    const nodes: Node[] = [];
    for (const [id, group] of groups) {
      const runsImages = images?.(group[0]!.agent_id.value);
      const known = this.cache.get(id);
      if (
        known &&
        known.images === runsImages &&
        known.offers.length === group.length &&
        known.offers.every((o, i) => o === group[i])
      ) {
        nodes.push(known.node);
        continue;
      }
      const node = nodeOf(id, group, images);
      this.cache.set(id, { offers: group, images: runsImages, node });
      nodes.push(node);
    }
    // Only the agents offered now are kept (offers come and go; the cache does not grow).
    if (this.cache.size > groups.size)
      for (const id of this.cache.keys()) if (!groups.has(id)) this.cache.delete(id);
    return nodes;
  }
}
