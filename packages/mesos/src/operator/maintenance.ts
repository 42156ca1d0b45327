/**
 * The maintenance calls of the master's operator API (`POST /api/v1`, Mesos docs
 * operator-http-api.md and maintenance.md; spec §6.8): schedule machines for maintenance (they
 * go DRAINING: frameworks get inverse offers), read the frameworks' answers, take machines DOWN
 * (their agents are removed) and bring them UP again. A machine is `{hostname, ip}` as its agent
 * registered. Calls go to the leading master; errors are `MesosHttpError`s with Mesos' reason.
 */
import type { BasicCredentials, TlsOptions } from '../http/client.js';
import { MesosHttpClient } from '../http/client.js';
import { decodeJsonBytes, encodeJson } from '../json/index.js';
import type { Int64, MachineID, Unavailability } from '../types/index.js';

/** `MachineID`: the agent's hostname and IP (at least one). */
export type MachineId = MachineID;

/** A maintenance window: machines going away together. */
export interface MaintenanceWindow {
  machine_ids: MachineId[];
  unavailability: Unavailability;
}

/** A framework's answer to the inverse offers of a draining machine. */
export interface InverseOfferStatus {
  status: 'UNKNOWN' | 'ACCEPT' | 'DECLINE';
  framework_id: { value: string };
  timestamp?: { nanoseconds: Int64 };
}

/** `maintenance.ClusterStatus`. */
export interface MaintenanceStatus {
  draining_machines: Array<{ id: MachineId; statuses: InverseOfferStatus[] }>;
  down_machines: MachineId[];
}

/** Options of `MaintenanceClient`. */
export interface MaintenanceClientOptions {
  /** The leading master's base URL, or a function giving it now (it changes with failovers). */
  master: string | (() => string | undefined);
  credentials?: BasicCredentials;
  tls?: TlsOptions;
  /** Per call, ms; default 10 000. */
  timeoutMs?: number;
}

/** The operator API's maintenance calls on one cluster. `close()` when done. */
export class MaintenanceClient {
  private readonly http: MesosHttpClient;

  constructor(private readonly options: MaintenanceClientOptions) {
    this.http = new MesosHttpClient({
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      requestTimeoutMs: options.timeoutMs ?? 10_000,
      maxSockets: 2,
    });
  }

  /** UPDATE_MAINTENANCE_SCHEDULE: the whole schedule (machines left out of it leave maintenance). */
  async updateSchedule(windows: readonly MaintenanceWindow[]): Promise<void> {
    await this.call({
      type: 'UPDATE_MAINTENANCE_SCHEDULE',
      update_maintenance_schedule: { schedule: { windows } },
    });
  }

  /** GET_MAINTENANCE_SCHEDULE. */
  async schedule(): Promise<MaintenanceWindow[]> {
    const answer = (await this.call({ type: 'GET_MAINTENANCE_SCHEDULE' })) as {
      get_maintenance_schedule?: { schedule?: { windows?: MaintenanceWindow[] } };
    };
    return answer.get_maintenance_schedule?.schedule?.windows ?? [];
  }

  /** START_MAINTENANCE: the DRAINING machines go DOWN. */
  async start(machines: readonly MachineId[]): Promise<void> {
    await this.call({ type: 'START_MAINTENANCE', start_maintenance: { machines } });
  }

  /** STOP_MAINTENANCE: the DOWN machines come UP and leave the schedule. */
  async stop(machines: readonly MachineId[]): Promise<void> {
    await this.call({ type: 'STOP_MAINTENANCE', stop_maintenance: { machines } });
  }

  /** GET_MAINTENANCE_STATUS: draining machines with the frameworks' answers, and down machines. */
  async status(): Promise<MaintenanceStatus> {
    const answer = (await this.call({ type: 'GET_MAINTENANCE_STATUS' })) as {
      get_maintenance_status?: { status?: Partial<MaintenanceStatus> };
    };
    const status = answer.get_maintenance_status?.status ?? {};
    return {
      draining_machines: (status.draining_machines ?? []).map((m) => ({
        id: m.id,
        statuses: m.statuses ?? [],
      })),
      down_machines: status.down_machines ?? [],
    };
  }

  close(): void {
    this.http.close();
  }

  private async call(body: unknown): Promise<unknown> {
    const master = typeof this.options.master === 'function' ? this.options.master() : this.options.master;
    if (master === undefined) throw new Error('no Mesos master is known to send the maintenance call to');
    const url = new URL('/api/v1', master.endsWith('/') ? master : `${master}/`);
    const response = await this.http.post(url, encodeJson(body));
    return response.body.length === 0 ? {} : decodeJsonBytes(response.body);
  }
}

/** True when two machine ids name the same machine (hostname case-insensitive). */
export function sameMachine(a: MachineId, b: MachineId): boolean {
  return (
    (a.hostname ?? '').toLowerCase() === (b.hostname ?? '').toLowerCase() && (a.ip ?? '') === (b.ip ?? '')
  );
}
