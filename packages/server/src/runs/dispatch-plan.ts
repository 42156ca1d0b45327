import { parseConstraint, place, type Constraint, type Demand, type Node } from '@galley/core';
import type { LaunchSpec } from '../backends/backend.js';
import type { AttemptRecord, RunRecord } from '../model/records.js';
import { applyEvent, type Step } from './changes.js';
import { attemptIdOf } from './ids.js';
import type { RetryPolicy } from '@galley/core';

/** The node attribute naming the host an attempt ran on (Mesos: the agent id). */
const HOST_ATTRIBUTE = 'galley.agent';

/**
 * What placement needs to know of a queued run. `cpu` millicores become cpus. A run without a
 * role gets `defaultRole`. A retried run avoids the host of its last attempt when `avoidHost`.
 * Constraints were validated when the run was made.
 */
export function demandOf(run: RunRecord, defaultRole?: string, avoidHost = false): Demand {
  const p = run.placement;
  const role = p?.role ?? defaultRole;
  const constraints: Constraint[] = (p?.constraints ?? []).map((c) => parseConstraint(c));
  if (avoidHost && run.instance)
    constraints.push({ attribute: HOST_ATTRIBUTE, op: 'neq', value: run.instance.instanceId });
  return {
    id: run.runId,
    cpus: run.cpu / 1000,
    memMb: run.memory,
    diskMb: p?.diskMb ?? 0,
    gpus: run.gpu,
    ports: p?.ports.length ?? 0,
    ...(role !== undefined ? { role } : {}),
    ...(constraints.length > 0 ? { constraints } : {}),
    queuedAt: run.state.queuedAt,
  };
}

/** True when a retried run should avoid its last host: another host is offering capacity. */
function shouldAvoidHost(run: RunRecord, nodes: readonly Node[]): boolean {
  const last = run.instance?.instanceId;
  if (run.state.attemptCount === 0 || last === undefined) return false;
  return nodes.some(
    (n) => n.attributes[HOST_ATTRIBUTE] !== undefined && n.attributes[HOST_ATTRIBUTE] !== last,
  );
}

/** The launch of a run's attempt. */
export function launchSpecOf(
  run: RunRecord,
  attemptId: string,
  seq: number,
  nodeId: string,
  hostPorts: number[] = [],
): LaunchSpec {
  const p = run.placement;
  return {
    name: run.alias,
    diskMb: p?.diskMb ?? 0,
    hostPorts,
    containerPorts: p?.ports ?? [],
    healthCheck: p?.healthCheck ?? null,
    attemptId,
    runId: run.runId,
    seq,
    nodeId,
    image: run.image,
    command: run.command,
    env: run.env,
    cpus: run.cpu / 1000,
    memMb: run.memory,
    gpus: run.gpu,
  };
}

/** The decisions of one dispatch round: steps to store, then specs to launch. */
export interface DispatchPlan {
  steps: Step[];
  launches: LaunchSpec[];
}

/**
 * Plans one dispatch round for queued runs (oldest first) onto the nodes: each placed run gets a
 * new attempt (write-ahead record in state `launching`, with the fencing `epoch`); each unplaced
 * run gets its reason, unless `shouldRecordReason` says it was recorded too recently.
 */
export function planDispatch(
  queued: readonly RunRecord[],
  nodes: Node[],
  ctx: {
    policy: RetryPolicy;
    random: () => number;
    now: number;
    epoch: number;
    cluster: string;
    defaultRole?: string | undefined;
  },
  shouldRecordReason: (run: RunRecord, reason: string) => boolean,
): DispatchPlan {
  const byId = new Map(queued.map((r) => [r.runId, r]));
  const demands = queued.map((r) => demandOf(r, ctx.defaultRole, shouldAvoidHost(r, nodes)));
  const { placements, unplaced } = place(demands, nodes);
  const plan: DispatchPlan = { steps: [], launches: [] };
  for (const p of placements) {
    const run = byId.get(p.demandId)!;
    const seq = run.state.attemptCount + 1;
    const attemptId = attemptIdOf(run.runId, seq);
    const attempt: AttemptRecord = {
      attemptId,
      runId: run.runId,
      seq,
      cluster: ctx.cluster,
      nodeId: p.nodeId,
      epoch: ctx.epoch,
      state: 'launching',
      handle: null,
      outcome: null,
      createdAt: ctx.now,
      launchedAt: null,
      endedAt: null,
    };
    const step = applyEvent(run, { type: 'launching', attemptId, at: ctx.now }, ctx, {
      attempt: { insert: attempt },
    });
    if (!step) continue;
    plan.steps.push(step);
    plan.launches.push(launchSpecOf(run, attemptId, seq, p.nodeId, p.ports));
  }
  for (const u of unplaced) {
    const run = byId.get(u.demandId)!;
    if (run.state.queuedReason === u.reason || !shouldRecordReason(run, u.reason)) continue;
    // Nothing offered right now (Mesos offers come and go): keep the reason a real round gave.
    if (nodes.length === 0 && run.state.queuedReason !== null) continue;
    const step = applyEvent(run, { type: 'unplaceable', at: ctx.now, reason: u.reason }, ctx);
    if (step) plan.steps.push(step);
  }
  return plan;
}
