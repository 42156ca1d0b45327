import { parseConstraint, place, type Constraint, type Demand, type Node } from '@galley/core';
import type { LaunchSpec, PlacedGroupLaunch, PlacementTraits } from '../backends/backend.js';
import type { GroupLaunch } from '../backends/group-runner.js';
import { launchDemand, portsByProcess } from '../backends/launch-shape.js';
import type { AttemptRecord, RunRecord } from '../model/records.js';
import { applyEvent, type Step } from './changes.js';
import { attemptIdOf } from './ids.js';
import type { RetryPolicy } from '@galley/core';
import type { QueueOrder } from '../queues/gate.js';

/** The node attribute naming the host an attempt ran on (Mesos: the agent id). */
const HOST_ATTRIBUTE = 'galley.agent';

/**
 * The node attribute saying whether a node runs container images (Mesos: `galley.images` of
 * backends/mesos/nodes.ts): `none` = no run with an image is placed there.
 */
const IMAGES_ATTRIBUTE = 'galley.images';

/** True when a run's image is one to run: not empty, not `none`. */
export function hasImage(image: string): boolean {
  const name = image.trim().toLowerCase();
  return name !== '' && name !== 'none';
}

/**
 * The priority rule between pipelines and runs: in a dispatch round every pipeline launch is
 * placed before any queued run, whatever their ages. A pipeline launch restores an instance the
 * user declared (a replacement after a crash, a scale-up, a rolling update's surge); there are at
 * most `instances` + surge of them per pipeline, so runs can wait behind them only briefly, while a
 * backlog of runs has no bound and would otherwise keep a service below its declared size.
 * Within each tier, placement goes oldest first (core `place()`).
 */
export const PIPELINE_TIER = 0;
export const RUN_TIER = 1;

/** What a dispatch round needs to know of the backend it places onto. */
export interface DispatchTarget {
  cluster: string;
  /** The role of work that names none (Mesos with several roles); undefined = any node. */
  defaultRole?: string | undefined;
  /** The roles of the backend; undefined = its nodes have none (roles are ignored). */
  roles?: readonly string[] | undefined;
  placement: PlacementTraits;
}

/** The placement demand of a pipeline launch on `target`'s nodes. */
export function groupDemandOf(launch: GroupLaunch, target: DispatchTarget): Demand {
  const d = launchDemand(
    launch.spec,
    launch.launchId,
    launch.queuedAt,
    target.placement.groupExecutor,
    target.defaultRole,
  );
  const { role, fixedPorts, ...rest } = d;
  return {
    ...rest,
    ports: target.placement.portsFromNodes ? d.ports : 0,
    ...(target.placement.portsFromNodes && fixedPorts ? { fixedPorts } : {}),
    ...(target.roles !== undefined && role !== undefined ? { role } : {}),
    tier: PIPELINE_TIER,
  };
}

/**
 * What placement needs to know of a queued run. `cpu` millicores become cpus. A run without a
 * role gets `defaultRole`. A retried run avoids the host of its last attempt when `avoidHost`.
 * With `imageNodesOnly` (some node runs no images), a run with an image avoids the nodes whose
 * `galley.images` is `none`. Constraints were validated when the run was made.
 */
export function demandOf(
  run: RunRecord,
  defaultRole?: string,
  avoidHost = false,
  imageNodesOnly = false,
): Demand {
  const p = run.placement;
  const role = p?.role ?? defaultRole;
  const constraints: Constraint[] = (p?.constraints ?? []).map((c) => parseConstraint(c));
  if (avoidHost && run.host)
    constraints.push({ attribute: HOST_ATTRIBUTE, op: 'neq', value: run.host.hostId });
  if (imageNodesOnly && hasImage(run.image))
    constraints.push({ attribute: IMAGES_ATTRIBUTE, op: 'neq', value: 'none' });
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
    tier: RUN_TIER,
  };
}

/** True when a retried run should avoid its last host: another host is offering capacity. */
function shouldAvoidHost(run: RunRecord, nodes: readonly Node[]): boolean {
  const last = run.host?.hostId;
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

/** The decisions of one dispatch round: steps to store, then what to launch. */
export interface DispatchPlan {
  steps: Step[];
  launches: LaunchSpec[];
  /** Pipeline launches placed (their launch records were written before they were queued). */
  groups: PlacedGroupLaunch[];
  /** Pipeline launches left waiting, with placement's reason. */
  groupsWaiting: { launchId: string; reason: string }[];
}

/**
 * Plans one dispatch round onto `target`'s nodes: queued runs and waiting pipeline launches are
 * placed together by one core `place()` (pipeline launches first, see PIPELINE_TIER). Each placed
 * run gets a new attempt (write-ahead record in state `launching`, with the fencing `epoch`);
 * each unplaced run gets its reason, unless `shouldRecordReason` says it was recorded too
 * recently. Pure.
 */
export function planDispatch(
  queued: readonly RunRecord[],
  waitingLaunches: readonly GroupLaunch[],
  nodes: Node[],
  ctx: {
    policy: RetryPolicy;
    random: () => number;
    now: number;
    epoch: number;
    target: DispatchTarget;
  },
  shouldRecordReason: (run: RunRecord, reason: string) => boolean,
  order?: QueueOrder,
): DispatchPlan {
  const { target } = ctx;
  // With the queue gate's order (queues/gate.ts), `queued` is in fair order: its rank replaces age.
  if (order) queued = order.runs;
  const byId = new Map(queued.map((r) => [r.runId, r]));
  const launchById = new Map(waitingLaunches.map((l) => [l.launchId, l]));
  const imageNodesOnly = nodes.some((n) => n.attributes[IMAGES_ATTRIBUTE] === 'none');
  const demands = [
    ...waitingLaunches.map((l) => groupDemandOf(l, target)),
    ...queued.map((r, rank) => {
      const d = demandOf(r, target.defaultRole, shouldAvoidHost(r, nodes), imageNodesOnly);
      return order ? { ...d, queuedAt: rank } : d;
    }),
  ];
  const { placements, unplaced } = place(demands, nodes);
  const plan: DispatchPlan = {
    steps: [...(order?.steps ?? [])],
    launches: [],
    groups: [],
    groupsWaiting: [],
  };
  for (const h of order?.held ?? []) unplaced.push({ demandId: h.run.runId, reason: h.reason });
  if (order) for (const h of order.held) byId.set(h.run.runId, h.run);
  for (const p of placements) {
    const launch = launchById.get(p.demandId);
    if (launch) {
      const ports = target.placement.portsFromNodes ? portsByProcess(launch.spec, p.ports) : {};
      plan.groups.push({ launch, nodeId: p.nodeId, ports });
      continue;
    }
    const run = byId.get(p.demandId)!;
    const seq = run.state.attemptCount + 1;
    const attemptId = attemptIdOf(run.runId, seq);
    const attempt: AttemptRecord = {
      attemptId,
      runId: run.runId,
      seq,
      cluster: target.cluster,
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
    if (launchById.has(u.demandId)) {
      plan.groupsWaiting.push({ launchId: u.demandId, reason: u.reason });
      continue;
    }
    const run = byId.get(u.demandId)!;
    const note = order?.shareNotes.get(u.demandId);
    if (note && /^(waiting behind|needs )/.test(u.reason)) u.reason = note;
    if (run.state.queuedReason === u.reason || !shouldRecordReason(run, u.reason)) continue;
    // Nothing offered right now (Mesos offers come and go): keep the reason a real round gave.
    if (nodes.length === 0 && run.state.queuedReason !== null) continue;
    const step = applyEvent(run, { type: 'unplaceable', at: ctx.now, reason: u.reason }, ctx);
    if (step) plan.steps.push(step);
  }
  return plan;
}
