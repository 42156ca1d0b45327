import { hostname as osHostname } from 'node:os';
import type { DrainAnswer, DrainSpec, PipelineSpec, SourceAuth } from '@galley/core';
import type { InstanceRecord } from '../model/pipeline-records.js';
import { agentOf, type GocdAgent, GocdAgents, instanceOfAgent } from './gocd.js';
import { request } from './http.js';

/**
 * Asking instances whether they are busy before a scale-in (the `GALLEY_DRAIN` contract):
 * - `http`: `GET http://<host>:<port><path>` answers `{"busy": true|false}`; no answer, another
 *   status or another body counts as busy (Galley never guesses a worker idle);
 * - `gocd`: the instance's GoCD agent (registered with the instance id as its hostname or elastic
 *   agent id) — a scale-in first disables it, and it is idle once GoCD says Disabled + Idle; after
 *   its instance is gone the agent is deleted; an agent of a live instance left Pending is enabled.
 * - `signal`: nothing to ask — the worker finishes its job on its stop signal (the backend sends
 *   `drain.signal` instead of SIGTERM), so every instance counts as idle.
 * An instance without a drain contract, or not running yet, is idle (nothing of it runs work).
 */

/** One answer, with why. */
export interface InstanceAnswer {
  instanceId: string;
  answer: DrainAnswer;
  why: string;
}

/** What the GoCD drain did this round, for the decisions table. */
export interface GocdActions {
  enabled: string[];
  disabled: string[];
  reenabled: string[];
  deleted: string[];
}

/** The drain contract of a pipeline's spec: the first process that declares one. */
export function drainOf(spec: PipelineSpec): { process: string; drain: DrainSpec } | null {
  for (const p of Object.values(spec.processes)) if (p.drain) return { process: p.id, drain: p.drain };
  return null;
}

/** Live instances (not being stopped), youngest first: the order a scale-in prefers among idle ones. */
export function liveInstances(instances: readonly InstanceRecord[]): InstanceRecord[] {
  return instances
    .filter((i) => i.state.phase !== 'stopping' && i.state.phase !== 'stopped')
    .sort((a, b) => b.state.createdAt - a.state.createdAt || b.state.number - a.state.number);
}

const isRunning = (i: InstanceRecord, process: string): boolean =>
  i.launch?.processes[process]?.state === 'TASK_RUNNING';

/** The host to reach an instance at: loopback when it runs on this host. */
function hostOf(i: InstanceRecord): string | null {
  const h = i.launch?.hostname ?? null;
  if (h === null) return null;
  return h === osHostname() || h === 'localhost' ? '127.0.0.1' : h;
}

/** Asks one instance over HTTP. */
async function askHttp(
  i: InstanceRecord,
  process: string,
  http: { port: number | string; path: string },
  timeoutMs: number,
): Promise<InstanceAnswer> {
  const id = i.state.instanceId;
  const ports = i.launch?.processes[process]?.ports ?? [];
  const port = typeof http.port === 'number' ? http.port : ports[Number(http.port.slice(4))];
  const host = hostOf(i);
  if (port === undefined || host === null)
    return { instanceId: id, answer: 'busy', why: `${id}: no address to ask yet` };
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}${http.path}`;
  try {
    const { status, text } = await request(`http://${where}`, { timeoutMs });
    const busy = status === 200 ? (JSON.parse(text) as { busy?: unknown }).busy : undefined;
    if (typeof busy !== 'boolean')
      return {
        instanceId: id,
        answer: 'busy',
        why: `${id}: drain answered HTTP ${status} without {"busy": …}`,
      };
    return { instanceId: id, answer: busy ? 'busy' : 'idle', why: `${id}: ${busy ? 'busy' : 'idle'}` };
  } catch (err) {
    return {
      instanceId: id,
      answer: 'busy',
      why: `${id}: drain not answered (${err instanceof Error ? err.message : String(err)})`,
    };
  }
}

/** Asks every live instance (HTTP contract, or none); youngest first. */
export async function askInstances(
  live: readonly InstanceRecord[],
  drain: { process: string; drain: DrainSpec } | null,
  timeoutMs: number,
): Promise<InstanceAnswer[]> {
  return Promise.all(
    live.map(async (i): Promise<InstanceAnswer> => {
      const id = i.state.instanceId;
      if (drain !== null && 'signal' in drain.drain)
        return { instanceId: id, answer: 'idle', why: `${id}: finishes its job on ${drain.drain.signal}` };
      if (drain === null || !('http' in drain.drain))
        return { instanceId: id, answer: 'idle', why: `${id}: no drain contract` };
      if (!isRunning(i, drain.process))
        return { instanceId: id, answer: 'idle', why: `${id}: not running yet` };
      return askHttp(i, drain.process, drain.drain.http, timeoutMs);
    }),
  );
}

/**
 * One round of GoCD's drain for a pipeline: answers per live instance (idle = its agent is
 * Disabled and Idle, or it has no agent yet), and carries out GoCD's side — enable pending agents
 * of live instances, disable the agents a scale-in of `excess` instances needs (idle agents first),
 * re-enable agents disabled before when no scale-in is wanted, delete agents of instances gone.
 */
export async function gocdRound(opts: {
  url: string;
  auth: SourceAuth | undefined;
  pipelineId: string;
  live: readonly InstanceRecord[];
  /** Every instance the store still has (stopping ones too): their agents are not deleted yet. */
  known: ReadonlySet<string>;
  excess: number;
  timeoutMs: number;
}): Promise<{ answers: InstanceAnswer[]; actions: GocdActions }> {
  const api = new GocdAgents(opts.url, opts.auth, opts.timeoutMs);
  const agents = await api.list();
  const actions: GocdActions = { enabled: [], disabled: [], reenabled: [], deleted: [] };
  // Agents whose instance is gone (stopped and removed): deleted from GoCD.
  for (const a of agents) {
    const id = instanceOfAgent(a, opts.pipelineId);
    if (id !== null && !opts.known.has(id) && a.agent_config_state === 'Disabled') {
      await api.remove(a.uuid);
      actions.deleted.push(id);
    }
  }
  const byInstance = new Map<string, GocdAgent>();
  for (const i of opts.live) {
    const a = agentOf(agents, i.state.instanceId);
    if (a) byInstance.set(i.state.instanceId, a);
  }
  for (const [id, a] of byInstance)
    if (a.agent_config_state === 'Pending') {
      await api.setConfigState(a.uuid, 'Enabled');
      a.agent_config_state = 'Enabled';
      actions.enabled.push(id);
    }
  const disabled = [...byInstance.entries()].filter(([, a]) => a.agent_config_state === 'Disabled');
  if (opts.excess <= 0) {
    for (const [id, a] of disabled) {
      await api.setConfigState(a.uuid, 'Enabled');
      a.agent_config_state = 'Enabled';
      actions.reenabled.push(id);
    }
  } else {
    // Disable as many more as the scale-in needs: idle agents first, then building ones (GoCD
    // lets a disabled agent finish its job; it takes no new one).
    const enabled = [...byInstance.entries()]
      .filter(([, a]) => a.agent_config_state === 'Enabled')
      .sort(([, a], [, b]) => Number(a.build_state !== 'Idle') - Number(b.build_state !== 'Idle'));
    for (const [id, a] of enabled.slice(0, Math.max(0, opts.excess - disabled.length))) {
      await api.setConfigState(a.uuid, 'Disabled');
      a.agent_config_state = 'Disabled';
      a.build_state = 'Unknown'; // idle only once GoCD says so after the disable
      actions.disabled.push(id);
    }
  }
  const answers = opts.live.map((i): InstanceAnswer => {
    const id = i.state.instanceId;
    const a = byInstance.get(id);
    if (!a) return { instanceId: id, answer: 'idle', why: `${id}: no GoCD agent registered` };
    if (a.agent_config_state === 'Disabled' && a.build_state === 'Idle')
      return { instanceId: id, answer: 'idle', why: `${id}: agent disabled and idle` };
    return { instanceId: id, answer: 'busy', why: `${id}: agent ${a.agent_config_state}, ${a.build_state}` };
  });
  return { answers, actions };
}
