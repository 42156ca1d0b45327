/**
 * What the capacity loop (capacity/loop.ts) needs of the leading master, kept here where the
 * server talks to Mesos: the agents from `GET /master/state` (id, hostname, IP from its pid
 * `slave(1)@ip:port`, total and used cpus and memory, the tasks running there, any framework) and
 * the operator API's maintenance calls (the SDK's MaintenanceClient).
 */
import { MaintenanceClient, isTerminalTaskState, type BasicCredentials } from '@galley/mesos';

export type { MachineId, MaintenanceStatus, MaintenanceWindow } from '@galley/mesos';
/** True when two machine ids name the same machine (hostname case-insensitive). */
export { sameMachine as isSameMachine } from '@galley/mesos';

export interface MasterAgent {
  id: string;
  hostname: string;
  ip: string;
  cpus: number;
  memMb: number;
  usedCpus: number;
  usedMemMb: number;
  /** Tasks not in a terminal state, of every framework. */
  tasks: number;
}

interface StateJson {
  slaves?: Array<{
    id?: string;
    hostname?: string;
    pid?: string;
    active?: boolean;
    resources?: { cpus?: number; mem?: number };
    used_resources?: { cpus?: number; mem?: number };
  }>;
  frameworks?: Array<{ tasks?: Array<{ slave_id?: string; state?: string }> }>;
}

/** Reads the active agents; throws when the master does not answer 200 within 10 s. */
export async function readMasterAgents(
  master: string,
  headers: Record<string, string>,
): Promise<MasterAgent[]> {
  const res = await fetch(new URL('/master/state', master), { headers, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET /master/state answered ${res.status}`);
  const state = (await res.json()) as StateJson;
  const tasks = new Map<string, number>();
  for (const f of state.frameworks ?? [])
    for (const t of f.tasks ?? [])
      if (t.slave_id && !isTerminalTaskState(t.state ?? 'TASK_UNKNOWN'))
        tasks.set(t.slave_id, (tasks.get(t.slave_id) ?? 0) + 1);
  return (state.slaves ?? [])
    .filter((s) => s.id && s.hostname && s.active !== false)
    .map((s) => ({
      id: s.id!,
      hostname: s.hostname!,
      ip: /@([^:]+):/.exec(s.pid ?? '')?.[1] ?? s.hostname!,
      cpus: s.resources?.cpus ?? 0,
      memMb: s.resources?.mem ?? 0,
      usedCpus: s.used_resources?.cpus ?? 0,
      usedMemMb: s.used_resources?.mem ?? 0,
      tasks: tasks.get(s.id!) ?? 0,
    }));
}

/** The maintenance calls and the agents of one master (the leader the framework is subscribed to). */
export class MasterMaintenance extends MaintenanceClient {
  constructor(
    readonly master: string,
    credentials: BasicCredentials | undefined,
    private readonly headers: Record<string, string>,
  ) {
    super({ master, ...(credentials ? { credentials } : {}) });
  }

  /** The active agents now. */
  agents(): Promise<MasterAgent[]> {
    return readMasterAgents(this.master, this.headers);
  }
}
