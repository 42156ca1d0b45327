import { CONFIGURATION_FAILURE } from '@galley/core';
import type { Logger } from 'pino';
import type {
  Backend,
  BackendEvent,
  LaunchBatch,
  LaunchSpec,
  PlacedGroupLaunch,
} from '../backends/backend.js';
import { DelegatingBackend } from '../backends/delegating-backend.js';
import type { GroupEvent } from '../backends/group-runner.js';
import { looksLikeReference } from './references.js';
import { applyResolution, type SecretResolver } from './resolver.js';

/**
 * A backend whose launches get their secrets: right before a batch is handed to the backend, the
 * references in its runs' env and its pipeline launches' environments are resolved (all of the
 * batch at once, in parallel: see SecretResolver), and the backend is handed the values. Nothing
 * resolved is kept: the stored run, its events and the API keep the reference. A run whose
 * reference cannot be resolved ends its attempt as a configuration failure (never retried) naming
 * the reference and why; a pipeline launch's processes end TASK_FAILED with the same words. A
 * batch without references goes through untouched.
 *
 * `secretEnv`: the launch spec names which variables hold secrets, so a backend that can treat them
 * apart does (Mesos: `Environment.Variable` of type SECRET; local containers: by name, never in
 * the env file); false = plain values everywhere.
 */
export class SecretsBackend extends DelegatingBackend {
  private events: (events: BackendEvent[]) => void | Promise<void> = () => {};
  private groupEvents: (events: GroupEvent[]) => Promise<void> = async () => {};
  /** Pipeline launches being resolved: a kill meanwhile marks them, and they are never handed over. */
  private readonly resolving = new Map<string, { killed: boolean }>();

  constructor(
    inner: Backend,
    private readonly resolver: SecretResolver,
    private readonly o: { logger: Logger; now: () => number; secretEnv: boolean },
  ) {
    super(inner);
    // One listener each, held here: the failures of resolution are reported beside the backend's events.
    inner.onEvents((events) => this.events(events));
    if (inner.groups) {
      inner.groups.onEvents((events) => this.groupEvents(events));
      // A kill of a launch still being resolved marks it (it is then never launched).
      this.groups = this.groupsView({
        onEvents: (listener) => {
          this.groupEvents = listener;
        },
        kill: async (launchId) => {
          const state = this.resolving.get(launchId);
          if (state) state.killed = true;
          await inner.groups!.kill(launchId);
        },
      });
    }
  }

  override onEvents(listener: (events: BackendEvent[]) => void | Promise<void>): void {
    this.events = listener;
  }

  /**
   * Work without references is handed over at once, so a slow Vault never holds it up: item by
   * item locally, node by node elsewhere (a Mesos launch takes a node's offers in one ACCEPT, so a
   * node's work goes in one call).
   */
  override async launch(batch: LaunchBatch): Promise<void> {
    const runRef = (spec: LaunchSpec) => spec.env.some((e) => looksLikeReference(e.value));
    const groupRef = (g: PlacedGroupLaunch) => groupValues(g).some(looksLikeReference);
    if (!batch.runs.some(runRef) && !batch.groups.some(groupRef)) return this.inner.launch(batch);
    const nodes = new Set([
      ...batch.runs.filter(runRef).map((r) => r.nodeId),
      ...batch.groups.filter(groupRef).map((g) => g.nodeId),
    ]);
    const perItem = this.inner.kind === 'local';
    const waitsRun = (r: LaunchSpec) => (perItem ? runRef(r) : nodes.has(r.nodeId));
    const waitsGroup = (g: PlacedGroupLaunch) => (perItem ? groupRef(g) : nodes.has(g.nodeId));
    const now: LaunchBatch = {
      runs: batch.runs.filter((r) => !waitsRun(r)),
      groups: batch.groups.filter((g) => !waitsGroup(g)),
    };
    await Promise.all([
      now.runs.length > 0 || now.groups.length > 0 ? this.inner.launch(now) : undefined,
      this.resolveAndLaunch({ runs: batch.runs.filter(waitsRun), groups: batch.groups.filter(waitsGroup) }),
    ]);
  }

  private async resolveAndLaunch(batch: LaunchBatch): Promise<void> {
    const values = [
      ...batch.runs.flatMap((s) => s.env.map((e) => e.value)),
      ...batch.groups.flatMap((g) => groupValues(g)),
    ];
    for (const g of batch.groups) this.resolving.set(g.launch.launchId, { killed: false });
    let resolution;
    try {
      resolution = await this.resolver.resolve(values);
    } catch (err) {
      resolution = { values: new Map<string, string>(), failures: new Map<string, string>() };
      for (const v of values.filter(looksLikeReference))
        resolution.failures.set(v, `${v}: it could not be resolved (${(err as Error).message})`);
    }
    const at = this.o.now();
    const runs: LaunchSpec[] = [];
    const failed: BackendEvent[] = [];
    for (const spec of batch.runs) {
      const r = applyResolution(Object.fromEntries(spec.env.map((e) => [e.name, e.value])), resolution);
      if (!r.ok) {
        this.o.logger.warn(
          { runId: spec.runId, attemptId: spec.attemptId, reason: r.reason },
          'secrets: a run is not launched',
        );
        failed.push({
          type: 'ended',
          attemptId: spec.attemptId,
          at,
          outcome: { kind: 'host-failure', reason: CONFIGURATION_FAILURE, message: r.reason },
        });
        continue;
      }
      runs.push({
        ...spec,
        env: spec.env.map((e) => ({ name: e.name, value: r.env[e.name] ?? e.value })),
        ...(this.o.secretEnv && r.secretNames.length > 0 ? { secretEnv: r.secretNames } : {}),
      });
    }
    const groups: PlacedGroupLaunch[] = [];
    const groupsFailed: GroupEvent[] = [];
    for (const g of batch.groups) {
      const state = this.resolving.get(g.launch.launchId);
      this.resolving.delete(g.launch.launchId);
      const processes = Object.keys(g.launch.spec.processes);
      const resolved = resolveGroup(g, resolution, this.o.secretEnv);
      if (state?.killed || typeof resolved === 'string') {
        const message = state?.killed ? 'stopped before it started' : resolved;
        if (!state?.killed)
          this.o.logger.warn(
            { launchId: g.launch.launchId, reason: message },
            'secrets: a pipeline launch is not launched',
          );
        for (const process of processes)
          groupsFailed.push({
            type: 'process-ended',
            launchId: g.launch.launchId,
            process,
            at,
            end: {
              state: state?.killed ? 'TASK_KILLED' : 'TASK_FAILED',
              exitCode: null,
              message: message as string,
              hostFailure: false,
            },
          });
        continue;
      }
      groups.push(resolved);
    }
    // Reported after this call: the listeners store them in a later step of their loops.
    if (failed.length > 0) void Promise.resolve(this.events(failed)).catch(() => undefined);
    if (groupsFailed.length > 0) void this.groupEvents(groupsFailed).catch(() => undefined);
    if (runs.length > 0 || groups.length > 0) await this.inner.launch({ runs, groups });
  }
}

/** Every environment value of a pipeline launch (its spec's and its processes'). */
function groupValues(g: PlacedGroupLaunch): string[] {
  const spec = g.launch.spec;
  return [
    ...Object.values(spec.environment),
    ...Object.values(spec.processes).flatMap((p) => Object.values(p.environment ?? {})),
  ];
}

/** The launch with its spec's references resolved (a copy: the stored spec keeps them), or why not. */
function resolveGroup(
  g: PlacedGroupLaunch,
  resolution: Parameters<typeof applyResolution>[1],
  secretEnv: boolean,
): PlacedGroupLaunch | string {
  const spec = g.launch.spec;
  const top = applyResolution(spec.environment, resolution);
  if (!top.ok) return top.reason;
  const names = new Set(top.secretNames);
  const processes: typeof spec.processes = {};
  for (const [id, p] of Object.entries(spec.processes)) {
    const r = applyResolution(p.environment ?? {}, resolution);
    if (!r.ok) return `process ${id}: ${r.reason}`;
    for (const n of r.secretNames) names.add(n);
    processes[id] = { ...p, environment: r.env };
  }
  const launch = { ...g.launch, spec: { ...spec, environment: top.env, processes } };
  return { ...g, launch: secretEnv && names.size > 0 ? { ...launch, secretEnv: [...names] } : launch };
}
