import type { FakeAgent, MachineId, ScheduledMachine, World } from './world.js';

/**
 * Which machine an agent is on, as the master matches maintenance machine ids to agents: the
 * hostname (case-insensitive) and the IP, each when the id sets it.
 */

/** True when the machine id names the agent's machine. */
export function isOnMachine(id: MachineId, agent: FakeAgent): boolean {
  if (id.hostname !== undefined && id.hostname.toLowerCase() !== agent.hostname.toLowerCase()) return false;
  if (id.ip !== undefined && id.ip !== agent.ip) return false;
  return true;
}

/** The scheduled machine an agent is on, if any. */
export function machineOf(world: World, agent: FakeAgent): ScheduledMachine | undefined {
  for (const machine of world.maintenance.machines.values())
    if (isOnMachine(machine.id, agent)) return machine;
  return undefined;
}
