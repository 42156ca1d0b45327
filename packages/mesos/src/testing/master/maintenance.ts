import { removeAgent } from '../agent/partition.js';
import type {
  FakeAgent,
  FakeFramework,
  JsonObject,
  MachineId,
  MaintenanceState,
  ScheduledMachine,
  World,
} from '../model/world.js';
import { arrayField, idValue, objectField } from '../wire/call-parsing.js';
import { isActive, rescindAgentOffers } from './allocator.js';
import { sendEvent } from './events.js';
import { filterDurationMs } from './filters.js';
import { agentUrlJson } from './offer-json.js';
import { int64 } from '../wire/mesos-json.js';
import { isOnMachine, machineOf } from '../model/machines.js';

/**
 * Maintenance as the Mesos master runs it (docs/maintenance.md; spec §6.8): the operator's
 * schedule puts machines in DRAINING — their agents' offers carry `unavailability` and every
 * framework holding resources there (tasks or offers) gets an inverse offer, which it accepts or
 * declines (advisory: the answers are shown in the maintenance status); START_MAINTENANCE takes a
 * DRAINING machine DOWN, which removes its agents (their tasks GONE_BY_OPERATOR, or LOST for
 * frameworks that are not partition-aware); STOP_MAINTENANCE brings a DOWN machine UP again and
 * out of the schedule. A machine is its agents' `{hostname, ip}`; an id giving only one of them
 * matches on that one.
 */

/** An empty maintenance state. */
export function newMaintenanceState(): MaintenanceState {
  return {
    machines: new Map(),
    windows: [],
    inverseOffers: new Map(),
    inverseFilters: new Map(),
    sequence: 0,
  };
}

/** The map key of a machine id: lower-cased hostname and IP. */
export function machineKey(id: MachineId): string {
  return `${(id.hostname ?? '').toLowerCase()}\u0000${id.ip ?? ''}`;
}

/** A `MachineID` in its JSON form (fields that are set only). */
export function machineJson(id: MachineId): JsonObject {
  const out: JsonObject = {};
  if (id.hostname !== undefined) out.hostname = id.hostname;
  if (id.ip !== undefined) out.ip = id.ip;
  return out;
}

function agentsOn(world: World, machine: ScheduledMachine): FakeAgent[] {
  return [...world.agents.values()].filter((a) => a.status !== 'gone' && isOnMachine(machine.id, a));
}

/** An operator call's answer: 200 with an optional JSON body, or an error text. */
export type OperatorAnswer = { ok: true; body?: JsonObject } | { ok: false; status: number; message: string };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseMachineId(value: unknown): MachineId | string {
  if (value === null || typeof value !== 'object') return 'Expecting a MachineID object';
  const raw = value as JsonObject;
  const hostname = typeof raw.hostname === 'string' && raw.hostname !== '' ? raw.hostname : undefined;
  const ip = typeof raw.ip === 'string' && raw.ip !== '' ? raw.ip : undefined;
  if (hostname === undefined && ip === undefined) return "Both 'hostname' and 'ip' for a MachineID are empty";
  if (ip !== undefined && (IPV4.exec(ip) === null || ip.split('.').some((p) => Number(p) > 255)))
    return `Failed to parse IP '${ip}'`;
  return { ...(hostname !== undefined ? { hostname } : {}), ...(ip !== undefined ? { ip } : {}) };
}

function parseMachineIds(values: unknown[]): MachineId[] | string {
  const out: MachineId[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    const id = parseMachineId(value);
    if (typeof id === 'string') return id;
    const key = machineKey(id);
    if (seen.has(key)) return `MachineID '${describe(id)}' appears more than once`;
    seen.add(key);
    out.push(id);
  }
  return out;
}

function describe(id: MachineId): string {
  return JSON.stringify(machineJson(id));
}

function nanosOf(value: unknown): bigint | undefined {
  const raw = (value as JsonObject | undefined)?.nanoseconds;
  if (typeof raw === 'number' && Number.isFinite(raw)) return BigInt(Math.trunc(raw));
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'string' && /^-?\d+$/.test(raw)) return BigInt(raw);
  return undefined;
}

/** UPDATE_MAINTENANCE_SCHEDULE: replaces the schedule (validated as a whole; all or nothing). */
export function updateSchedule(world: World, payload: JsonObject | undefined): OperatorAnswer {
  const schedule = objectField(payload, 'schedule');
  if (schedule === undefined) return bad("Expecting 'update_maintenance_schedule.schedule' to be present");
  const windows: Array<{ ids: MachineId[]; unavailability: JsonObject }> = [];
  const all = new Set<string>();
  for (const raw of arrayField(schedule, 'windows')) {
    const window = raw as JsonObject;
    const ids = parseMachineIds(arrayField(window, 'machine_ids'));
    if (typeof ids === 'string') return bad(ids);
    if (ids.length === 0) return bad('List of machines in the maintenance window is empty');
    const unavailability = objectField(window, 'unavailability');
    if (unavailability === undefined || nanosOf(objectField(unavailability, 'start')) === undefined)
      return bad("Expecting 'unavailability.start.nanoseconds' to be present");
    const duration = objectField(unavailability, 'duration');
    if (duration !== undefined && (nanosOf(duration) ?? -1n) < 0n)
      return bad('Unavailability duration is negative');
    for (const id of ids) {
      const key = machineKey(id);
      if (all.has(key)) return bad(`Machine '${describe(id)}' appears more than once in the schedule`);
      all.add(key);
    }
    windows.push({ ids, unavailability });
  }
  const state = world.maintenance;
  for (const [key, machine] of state.machines) {
    if (machine.mode === 'DOWN' && !all.has(key))
      return bad(`Machine '${describe(machine.id)}' is deactivated and cannot be removed from the schedule`);
  }
  const changed: ScheduledMachine[] = [];
  for (const [key, machine] of [...state.machines]) {
    if (all.has(key)) continue;
    state.machines.delete(key);
    changed.push(machine);
  }
  for (const window of windows) {
    for (const id of window.ids) {
      const key = machineKey(id);
      const known = state.machines.get(key);
      if (known === undefined) {
        const machine: ScheduledMachine = {
          id,
          unavailability: window.unavailability,
          mode: 'DRAINING',
          answers: new Map(),
        };
        state.machines.set(key, machine);
        changed.push(machine);
      } else if (JSON.stringify(known.unavailability) !== JSON.stringify(window.unavailability)) {
        known.unavailability = window.unavailability;
        changed.push(known);
      }
    }
  }
  state.windows = windows.map((w) => ({
    machineKeys: w.ids.map(machineKey),
    unavailability: w.unavailability,
  }));
  // Offers from machines whose schedule changed are rescinded so they come back with (or
  // without) `unavailability`; their inverse offers are rescinded and made anew if still draining.
  for (const machine of changed) {
    for (const agent of agentsOn(world, machine)) {
      rescindAgentOffers(world, agent);
      rescindInverseOffers(world, agent);
    }
  }
  world.allocateSoon();
  return { ok: true };
}

/** START_MAINTENANCE: DRAINING machines go DOWN; their agents are removed. */
export async function startMaintenance(
  world: World,
  payload: JsonObject | undefined,
): Promise<OperatorAnswer> {
  const ids = parseMachineIds(arrayField(payload, 'machines'));
  if (typeof ids === 'string') return bad(ids);
  const state = world.maintenance;
  const machines: ScheduledMachine[] = [];
  for (const id of ids) {
    const machine = state.machines.get(machineKey(id));
    if (machine === undefined) return bad(`Machine '${describe(id)}' is not part of a maintenance schedule`);
    if (machine.mode !== 'DRAINING')
      return bad(`Machine '${describe(id)}' is not in DRAINING mode and cannot be brought down`);
    machines.push(machine);
  }
  const removals: Promise<void>[] = [];
  for (const machine of machines) {
    machine.mode = 'DOWN';
    machine.answers.clear();
    for (const agent of agentsOn(world, machine)) {
      rescindInverseOffers(world, agent);
      removals.push(removeAgent(world, agent));
    }
  }
  await Promise.all(removals);
  return { ok: true };
}

/** STOP_MAINTENANCE: DOWN machines come UP and leave the schedule. */
export function stopMaintenance(world: World, payload: JsonObject | undefined): OperatorAnswer {
  const ids = parseMachineIds(arrayField(payload, 'machines'));
  if (typeof ids === 'string') return bad(ids);
  const state = world.maintenance;
  for (const id of ids) {
    const machine = state.machines.get(machineKey(id));
    if (machine?.mode !== 'DOWN')
      return bad(`Machine '${describe(id)}' is not in DOWN mode and cannot be brought up`);
  }
  for (const id of ids) {
    const key = machineKey(id);
    state.machines.delete(key);
    for (const window of state.windows) window.machineKeys = window.machineKeys.filter((k) => k !== key);
  }
  state.windows = state.windows.filter((w) => w.machineKeys.length > 0);
  return { ok: true };
}

/** GET_MAINTENANCE_SCHEDULE's answer. */
export function scheduleJson(world: World): JsonObject {
  const state = world.maintenance;
  const windows = state.windows.map((w) => ({
    machine_ids: w.machineKeys.flatMap((key) => {
      const machine = state.machines.get(key);
      return machine === undefined ? [] : [machineJson(machine.id)];
    }),
    unavailability: w.unavailability,
  }));
  const schedule: JsonObject = windows.length > 0 ? { windows } : {};
  return { type: 'GET_MAINTENANCE_SCHEDULE', get_maintenance_schedule: { schedule } };
}

/** GET_MAINTENANCE_STATUS's answer: draining machines with the frameworks' answers, down machines. */
export function statusJson(world: World): JsonObject {
  const draining: JsonObject[] = [];
  const down: JsonObject[] = [];
  for (const machine of world.maintenance.machines.values()) {
    if (machine.mode === 'DOWN') {
      down.push(machineJson(machine.id));
      continue;
    }
    const statuses = [...machine.answers].map(([frameworkId, answer]) => ({
      status: answer.status,
      framework_id: { value: frameworkId },
      timestamp: { nanoseconds: int64(answer.timestamp) },
    }));
    draining.push({ id: machineJson(machine.id), ...(statuses.length > 0 ? { statuses } : {}) });
  }
  const status: JsonObject = {};
  if (draining.length > 0) status.draining_machines = draining;
  if (down.length > 0) status.down_machines = down;
  return { type: 'GET_MAINTENANCE_STATUS', get_maintenance_status: { status } };
}

/**
 * After each allocation: every active framework with tasks or offers on an agent of a DRAINING
 * machine gets one inverse offer for that agent (all its resources: `resources` empty), unless
 * one is outstanding or its last answer's filter has not expired.
 */
export function sendInverseOffers(world: World): void {
  const state = world.maintenance;
  if (state.machines.size === 0) return;
  const now = Date.now();
  const byFramework = new Map<FakeFramework, JsonObject[]>();
  for (const agent of world.agents.values()) {
    if (agent.status !== 'registered') continue;
    const machine = machineOf(world, agent);
    if (machine?.mode !== 'DRAINING') continue;
    for (const framework of world.frameworks.values()) {
      if (!isActive(world, framework) || !holdsResourcesOn(world, framework, agent)) continue;
      const key = `${framework.id}\u0000${agent.id}`;
      if ((state.inverseFilters.get(key) ?? 0) > now) continue;
      if (
        [...state.inverseOffers.values()].some(
          (o) => o.frameworkId === framework.id && o.agentId === agent.id,
        )
      )
        continue;
      const id = `${world.leadership.masterId}-I${state.sequence++}`;
      state.inverseOffers.set(id, { id, frameworkId: framework.id, agentId: agent.id });
      if (!machine.answers.has(framework.id))
        machine.answers.set(framework.id, { status: 'UNKNOWN', timestamp: nowNanos() });
      const list = byFramework.get(framework) ?? [];
      list.push({
        id: { value: id },
        url: agentUrlJson(agent),
        framework_id: { value: framework.id },
        agent_id: { value: agent.id },
        unavailability: machine.unavailability,
      });
      byFramework.set(framework, list);
    }
  }
  for (const [framework, inverseOffers] of byFramework) {
    sendEvent(framework, { type: 'INVERSE_OFFERS', inverse_offers: { inverse_offers: inverseOffers } });
  }
}

function holdsResourcesOn(world: World, framework: FakeFramework, agent: FakeAgent): boolean {
  for (const task of framework.tasks.values())
    if (task.agentId === agent.id && !task.unreachable) return true;
  for (const offerId of framework.offers) if (world.offers.get(offerId)?.agentId === agent.id) return true;
  return false;
}

/** ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS: the answer is noted on the machine; unknown ids are ignored. */
export function answerInverseOffers(
  world: World,
  framework: FakeFramework,
  payload: JsonObject,
  status: 'ACCEPT' | 'DECLINE',
): void {
  const state = world.maintenance;
  const filterMs = filterDurationMs(
    objectField(payload, 'filters')?.refuse_seconds,
    world.options.allocationIntervalMs,
  );
  for (const raw of arrayField(payload, 'inverse_offer_ids')) {
    const id = idValue(raw) ?? '';
    const offer = state.inverseOffers.get(id);
    if (offer === undefined || offer.frameworkId !== framework.id) continue;
    state.inverseOffers.delete(id);
    const agent = world.agents.get(offer.agentId);
    const machine = agent === undefined ? undefined : machineOf(world, agent);
    machine?.answers.set(framework.id, { status, timestamp: nowNanos() });
    if (filterMs > 0)
      state.inverseFilters.set(`${framework.id}\u0000${offer.agentId}`, Date.now() + filterMs);
  }
}

/** Rescinds the outstanding inverse offers for an agent (RESCIND_INVERSE_OFFER). */
export function rescindInverseOffers(world: World, agent: FakeAgent): void {
  const state = world.maintenance;
  for (const offer of [...state.inverseOffers.values()]) {
    if (offer.agentId !== agent.id) continue;
    state.inverseOffers.delete(offer.id);
    const framework = world.frameworks.get(offer.frameworkId);
    if (framework !== undefined) {
      sendEvent(framework, {
        type: 'RESCIND_INVERSE_OFFER',
        rescind_inverse_offer: { inverse_offer_id: { value: offer.id } },
      });
    }
  }
}

function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function bad(message: string): OperatorAnswer {
  return { ok: false, status: 400, message };
}
