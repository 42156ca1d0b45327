import { requestJson } from './http.js';

/** Who leads the server's replicas, as `GET /api/v1/health` says it. */
export interface Leadership {
  /** The replica that answered. */
  replica: string | null;
  /** Whether the replica that answered leads. */
  answeringLeads: boolean;
  /** The replica holding the scheduler lease; null while none does (an election is under way). */
  leaderId: string | null;
  leaderUrl: string | null;
  epoch: number | null;
  /** ISO 8601. */
  since: string | null;
  /** Live replicas. */
  replicas: number;
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/**
 * Reads the leadership fields of a health answer, leniently. A server that predates replicas
 * (no `leader_id`) answers `leader: true` alone: it leads itself.
 */
export function readLeadership(answer: unknown): Leadership {
  const a = answer && typeof answer === 'object' ? (answer as Record<string, unknown>) : {};
  const answeringLeads = a['leader'] === true;
  const replica = str(a['replica']);
  const hasLeaderField = 'leader_id' in a;
  return {
    replica,
    answeringLeads,
    leaderId: hasLeaderField ? str(a['leader_id']) : answeringLeads ? (replica ?? 'this server') : null,
    leaderUrl: str(a['leader_url']),
    epoch: typeof a['epoch'] === 'number' ? a['epoch'] : null,
    since: str(a['leader_since']),
    replicas: Array.isArray(a['replicas']) ? a['replicas'].length : 1,
  };
}

/** The server's leadership now. */
export async function getLeadership(signal?: AbortSignal): Promise<Leadership> {
  return readLeadership(await requestJson<unknown>('GET', '/api/v1/health', { signal }));
}
