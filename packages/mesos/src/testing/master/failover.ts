import { uuidText } from '../model/ids.js';
import type { World } from '../model/world.js';
import { reregisterAgent } from '../agent/partition.js';
import { removeFrameworkOffers, removeOffer } from './allocator.js';
import { startMasterServer, stopMasterServer } from './master-server.js';

/**
 * Leader failover as transcript 13 shows it: the leader dies (every stream aborted, connections
 * refused for `downMs`), the new leader answers `404 Not Found.` while starting, then leads with a
 * new master id. It knows the frameworks only once they re-subscribe (or an agent running their
 * tasks re-registers); agents re-register after `agentReregisterDelayMs`, and until then
 * reconciliation of their tasks gets no answer and they make no offers.
 */

/** How a failover unfolds; every field has a default. */
export interface FailoverOptions {
  /** Index of the next leader; default the next master (the same one when there is only one). */
  to?: number;
  /** How long the old leader refuses connections before coming back (as a follower); default 0. */
  downMs?: number;
  /** How long the new leader answers 404 before leading; default `masterStartingMs`. */
  startingMs?: number;
  /** When agents re-register with the new leader; default `agentReregisterDelayMs`. */
  agentReregisterDelayMs?: number;
}

function sleep(world: World, ms: number): Promise<void> {
  return new Promise((resolve) => world.timers.after(ms, resolve));
}

/** Runs a failover; resolves once the new leader leads (agents re-register later). */
export async function failover(world: World, options: FailoverOptions = {}): Promise<void> {
  const count = world.masters.length;
  const old = world.leadership.leaderIndex ?? 0;
  const target = options.to ?? (count > 1 ? (old + 1) % count : old);
  if (!Number.isInteger(target) || target < 0 || target >= count)
    throw new RangeError(`no master with index ${target}`);
  const oldMaster = world.masters[old];
  const newMaster = world.masters[target];
  if (oldMaster === undefined || newMaster === undefined) throw new RangeError('unknown master');

  // The old leader dies: streams abort, its port refuses connections.
  oldMaster.phase = 'down';
  world.leadership.leaderIndex = undefined;
  world.leadership.ready = false;
  for (const framework of world.frameworks.values()) framework.subscription?.stream.abort();
  await stopMasterServer(oldMaster);
  forgetLeaderState(world);

  await sleep(world, options.downMs ?? 0);
  if (world.stopping) return;
  newMaster.phase = 'starting';
  if (newMaster.server === undefined) await startMasterServer(world, newMaster);
  world.leadership.leaderIndex = target;
  if (old !== target) {
    oldMaster.phase = 'following';
    await startMasterServer(world, oldMaster);
  }
  await sleep(world, options.startingMs ?? world.options.masterStartingMs);
  if (world.stopping) return;
  newMaster.phase = 'leading';
  world.leadership.ready = true;
  for (const master of world.masters)
    if (master !== newMaster && master.phase !== 'down') master.phase = 'following';
  const delay = options.agentReregisterDelayMs ?? world.options.agentReregisterDelayMs;
  world.timers.after(delay, () => {
    for (const agent of world.agents.values())
      if (agent.status === 'recovering') reregisterAgent(world, agent);
  });
}

/** What the new leader does not inherit: offers, filters, subscriptions, failover timers, agent registrations. */
function forgetLeaderState(world: World): void {
  world.leadership.masterId = uuidText();
  world.leadership.offerSequence = 0;
  world.leadership.frameworkSequence = 0;
  for (const framework of world.frameworks.values()) {
    removeFrameworkOffers(world, framework);
    framework.subscription = undefined;
    framework.knownToLeader = false;
    framework.suppressedRoles.clear();
    world.timers.cancel(framework.failoverTimer);
    framework.failoverTimer = undefined;
  }
  for (const offer of [...world.offers.values()]) removeOffer(world, offer);
  world.filters.clearAll();
  for (const agent of world.agents.values()) {
    if (agent.status === 'registered' || agent.status === 'disconnected') agent.status = 'recovering';
    for (const handle of agent.timers) world.timers.cancel(handle);
    agent.timers.clear();
  }
}
