import { requestJson } from './http.js';
import type { Cluster, ClusterAgent, Resources } from './types.js';

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Reads `{cpu|cpus, memory|mem, gpu|gpus, disk}`; undefined when neither cpu nor memory is there. */
function readResources(value: unknown): Resources | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const r = value as Record<string, unknown>;
  const cpu = num(r['cpu']) ?? num(r['cpus']);
  const memory = num(r['memory']) ?? num(r['mem']) ?? num(r['memory_mb']);
  if (cpu === undefined && memory === undefined) return undefined;
  return { cpu: cpu ?? 0, memory: memory ?? 0, gpu: num(r['gpu']) ?? num(r['gpus']), disk: num(r['disk']) };
}

function subtract(a: Resources, b: Resources): Resources {
  return { cpu: Math.max(0, a.cpu - b.cpu), memory: Math.max(0, a.memory - b.memory) };
}

/** `{total: {…}}` or the resources themselves. */
function readTotal(value: unknown): Resources | undefined {
  if (!value || typeof value !== 'object') return undefined;
  return readResources((value as Record<string, unknown>)['total']) ?? readResources(value);
}

/** `mesos.agent_support` of Galley's answer; undefined when absent. */
function readAgents(mesos: unknown): ClusterAgent[] | undefined {
  const list =
    mesos && typeof mesos === 'object' ? (mesos as Record<string, unknown>)['agent_support'] : undefined;
  if (!Array.isArray(list)) return undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return list
    .filter((a): a is Record<string, unknown> => !!a && typeof a === 'object')
    .map((a) => ({
      agentId: text(a['agent_id']) ?? '',
      hostname: text(a['hostname']) ?? '',
      images: text(a['images']) ?? 'none',
      imageFailure: text(a['image_failure']),
      executor: text(a['executor']) ?? 'command',
      executorFailure: text(a['executor_failure']),
    }));
}

/**
 * One entry of the clusters answer (a bare name, or Galley's detail object with `capacity`,
 * `free`, `running`) as a Cluster. Used resources are total minus free when not given.
 */
export function readCluster(entry: unknown): Cluster | null {
  if (typeof entry === 'string') return { name: entry };
  if (!entry || typeof entry !== 'object') return null;
  const c = entry as Record<string, unknown>;
  const name = c['name'] ?? c['cluster'] ?? c['id'];
  if (typeof name !== 'string') return null;
  const total = readTotal(c['capacity']) ?? readTotal(c['total']);
  const nested =
    c['capacity'] && typeof c['capacity'] === 'object' ? (c['capacity'] as Record<string, unknown>) : {};
  let used = readResources(c['used']) ?? readResources(nested['used']);
  let free = readResources(c['free']) ?? readResources(nested['free']) ?? readResources(c['available']);
  if (!free && total && used) free = subtract(total, used);
  if (!used && total && free) used = subtract(total, free);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    name,
    backend: str(c['backend'] ?? c['engine'] ?? c['kind']),
    total,
    used,
    free,
    queued: num(c['queued']),
    running: num(c['running']),
    note: str(c['note'] ?? c['description']),
    state: str(c['state']),
    isDefault: c['default'] === true ? true : undefined,
    runsOnHost: typeof c['runs_on_host'] === 'boolean' ? c['runs_on_host'] : undefined,
    agents: readAgents(c['mesos']),
  };
}

/**
 * The server's clusters with whatever capacity it reports: Galley's `{clusters, details}` (the
 * details are used), flotilla's `{clusters: [names]}`, or a bare list.
 */
export async function listClusters(signal?: AbortSignal): Promise<Cluster[]> {
  const answer = await requestJson<unknown>('GET', '/api/v1/clusters', { signal });
  let entries: unknown = [];
  if (Array.isArray(answer)) entries = answer;
  else if (answer && typeof answer === 'object') {
    const a = answer as Record<string, unknown>;
    entries = Array.isArray(a['details']) ? a['details'] : (a['clusters'] ?? []);
  }
  return (Array.isArray(entries) ? entries : []).map(readCluster).filter((c): c is Cluster => c !== null);
}
