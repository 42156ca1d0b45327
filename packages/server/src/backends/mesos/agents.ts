import type { Offer } from '@galley/mesos';

/** An agent as its offers describe it. */
export interface AgentInfo {
  hostname: string;
  /** `http://host:port` of the agent's endpoint (files API); null when offers gave no `url`. */
  url: string | null;
}

/** The agent's base URL from an offer's `url` (`{scheme, address: {hostname, ip, port}}`). */
export function agentUrlOf(offer: Offer): string | null {
  const u = offer.url;
  if (!u?.address?.port) return null;
  const host = u.address.ip ?? u.address.hostname ?? offer.hostname;
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return `${u.scheme || 'http'}://${bracketed}:${u.address.port}`;
}

/**
 * The agents seen in offers, by id: where to read sandboxes, and which agents are there. Kept
 * across subscriptions (an agent's address does not change with the framework's connection).
 */
export class AgentDirectory {
  private readonly agents = new Map<string, AgentInfo>();
  /** Agents that offered since the last SUBSCRIBED. */
  private readonly offeredSinceSubscribe = new Set<string>();

  /** Learns the agents of these offers. */
  note(offers: readonly Offer[]): void {
    for (const offer of offers) {
      const id = offer.agent_id.value;
      const url = agentUrlOf(offer);
      const known = this.agents.get(id);
      if (!known || known.hostname !== offer.hostname || (url && known.url !== url))
        this.agents.set(id, { hostname: offer.hostname, url: url ?? known?.url ?? null });
      this.offeredSinceSubscribe.add(id);
    }
  }

  /** Remembers an agent learned elsewhere (a stored handle, the master's state). */
  learn(agentId: string, info: AgentInfo): void {
    if (!this.agents.has(agentId) || info.url) this.agents.set(agentId, info);
  }

  get(agentId: string): AgentInfo | undefined {
    return this.agents.get(agentId);
  }

  /** Forgets which agents offered (a new subscription starts counting again). */
  resetOffered(): void {
    this.offeredSinceSubscribe.clear();
  }

  /** Agents that offered resources since the last SUBSCRIBED. */
  get offeringCount(): number {
    return this.offeredSinceSubscribe.size;
  }
}
