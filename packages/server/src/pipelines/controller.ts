import {
  classifyPipelineChange,
  DEFAULT_RESTART_BACKOFF,
  parsePipelineSpec,
  type PipelineSpec,
  type RestartBackoffPolicy,
  servingProblems,
} from '@galley/core';
import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.js';
import type { GroupEvent, GroupLaunch, GroupReconcileItem, GroupRunner } from '../backends/group-runner.js';
import { parseLaunchId } from './ids.js';
import type { Clock } from '../clock.js';
import { ControlLoop } from '../control/control-loop.js';
import type { Leadership } from '../control/leadership.js';
import type { InstanceRecord, PipelineRecord } from '../model/pipeline-records.js';
import { DuplicatePipelineError } from '../store/pipelines-sql.js';
import type { PipelineRepository } from '../store/store.js';
import { invalidPipeline, PipelineError, pipelineNotFound } from './errors.js';
import { type InFlightItem, launchesInFlight } from './in-flight.js';
import { failedPipelineReason, unservableReason, unservableVersionReason } from './servable.js';
import { applyGroupEvent } from './instance-events.js';
import { groupLaunchOf, planSync } from './sync.js';

/**
 * Where pipeline launches are placed: the run controller's dispatch round, which places them
 * together with the queued runs (one placement owner per backend).
 */
export interface LaunchDispatch {
  /** Queues recorded launches for placement on `cluster`. */
  submit(cluster: string, launches: readonly GroupLaunch[]): void;
  /** Drops a launch still waiting for placement (its processes end as killed); false when it is not waiting. */
  withdraw(launchId: string): boolean;
  /** The one listener for what becomes of waiting launches. */
  onGroupEvents(listener: (cluster: string, events: GroupEvent[]) => Promise<void>): void;
}

/** What the pipeline controller works with. */
export interface PipelineControllerOptions {
  store: PipelineRepository;
  backends: readonly Backend[];
  dispatch: LaunchDispatch;
  leadership: Leadership;
  clock: Clock;
  logger: Logger;
  /** The cluster new pipelines run on. */
  defaultCluster: string;
  /** Uniform numbers in [0, 1): each pipeline's creation uid. */
  random: () => number;
  /** Restart backoff and crash-loop policy of instances; undefined = core's default. */
  restartBackoff?: RestartBackoffPolicy;
}

/** What a PATCH did: core's classification of the change. */
export type PatchResult = 'unchanged' | 'scale' | 'strategy' | 'update';

/** Wait before a sync that failed (store down) is tried again. */
const RETRY_MS = 1_000;

/**
 * The pipeline controller (a Kubernetes-style controller): a keyed, coalescing work queue of
 * pipeline ids; `sync(id)` re-reads the pipeline, its instances and versions from the store and
 * lets core decide (see `planSync`), so it is idempotent and survives missed or repeated events.
 * It is woken by API changes, by the backends' group events, and by a timer at the earliest
 * `followUpAt` core asked for (no polling interval). Only the leader syncs and launches; every
 * replica may accept API changes, which are stored first and then synced. All work runs through
 * one serial queue, so decisions never interleave.
 */
export class PipelineController {
  readonly backoff: RestartBackoffPolicy;
  private readonly loop: ControlLoop;
  private readonly dirty = new Set<string>();
  private readonly followUps = new Map<string, number>();
  /** The launches in flight were handed to the backends already (by `handOver`). */
  private handedOver = false;
  private readonly log: Logger;
  /** Which instances a scale-down stops first (the autoscaler's drain-safe order); none = youngest first. */
  private scaleInOrder: (pipelineId: string) => readonly string[] | undefined = () => undefined;

  constructor(private readonly o: PipelineControllerOptions) {
    this.backoff = o.restartBackoff ?? DEFAULT_RESTART_BACKOFF;
    this.log = o.logger;
    this.loop = new ControlLoop({
      clock: o.clock,
      step: () => this.syncDirty(),
      onStepError: () => undefined, // syncSafely logs and retries each pipeline itself
      onDeadline: () => this.dueFollowUps(),
      closedError: () => new PipelineError(409, 'CLOSED', 'the server is shutting down'),
    });
    for (const b of o.backends) b.groups?.onEvents((events) => this.onGroupEvents(b.cluster, events));
    o.dispatch.onGroupEvents((cluster, events) => this.onGroupEvents(cluster, events));
    o.leadership.onChange((leader) => {
      if (leader)
        void this.recover().catch((err: unknown) => this.log.error({ err }, 'pipelines: recovery failed'));
      // The term's backends closed: the next term hands its launches over again.
      else this.handedOver = false;
    });
  }

  /**
   * Hands every launch in flight to its backend to be found again (before the backends start, so
   * they know every task they may hear of).
   */
  async handOver(): Promise<void> {
    if (!this.o.leadership.isLeader()) return;
    await this.serial(async () => {
      const inFlight = await launchesInFlight(this.o.store);
      for (const [cluster, all] of inFlight) {
        const runner = this.runnerOf(cluster);
        if (!runner) continue;
        const strip = ({ unservable: _, ...item }: InFlightItem): GroupReconcileItem => item;
        await runner.reconcile(all.filter((i) => !i.unservable).map(strip));
        // Launches of a spec that cannot be served are found again to be stopped; a backend that
        // cannot even look for them (an id no file or task id can hold) fails none of the others.
        const unservable = all.filter((i) => i.unservable).map(strip);
        if (unservable.length > 0)
          await runner
            .reconcile(unservable)
            .catch((err: unknown) =>
              this.log.warn(
                { err, launches: unservable.length, cluster },
                'pipelines: launches of specs that cannot be served were not found again',
              ),
            );
      }
      this.handedOver = true;
      this.log.info(
        { launches: [...inFlight.values()].reduce((n, l) => n + l.length, 0) },
        'pipelines: launches in flight handed to their backends',
      );
    });
  }

  /** After the backends started: syncs every pipeline (finding launches again first, if not done yet). */
  async start(): Promise<void> {
    if (this.o.leadership.isLeader()) await this.recover();
  }

  /** Stops the queue and timers (instances keep running). */
  async close(): Promise<void> {
    await this.loop.close();
  }

  /** Whether this replica leads (syncs and launches). */
  isLeader(): boolean {
    return this.o.leadership.isLeader();
  }

  /** The backend that runs pipelines on `cluster`, or null. */
  runnerOf(cluster: string): GroupRunner | null {
    return this.o.backends.find((b) => b.cluster === cluster)?.groups ?? null;
  }

  /** Sets where a scale-down learns which instances go first (the autoscaler, leader-only, in memory). */
  setScaleInOrder(order: (pipelineId: string) => readonly string[] | undefined): void {
    this.scaleInOrder = order;
  }

  /** Asks for a sync of the pipeline soon; many wakes before it runs make one sync. */
  wake(pipelineId: string): void {
    if (this.loop.isClosed) return;
    this.dirty.add(pipelineId);
    this.loop.wake();
  }

  /** The loop's step: syncs every pipeline woken since the last one. */
  private async syncDirty(): Promise<void> {
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) await this.syncSafely(id);
  }

  // ---- API changes ----

  /** Creates a pipeline from Faustian's JSON (defaults filled by core); PipelineError 409/422. */
  create(raw: unknown): Promise<PipelineRecord> {
    return this.serial(async () => {
      const spec = this.parse(raw);
      const cluster = this.o.defaultCluster;
      this.checkRunnable(cluster, spec);
      const now = this.o.clock.now();
      const record: PipelineRecord = {
        pipelineId: spec.id,
        uid: Math.floor(this.o.random() * 36 ** 5)
          .toString(36)
          .padStart(5, '0'),
        cluster,
        spec,
        version: 1,
        instanceSeq: 0,
        update: null,
        updateSeq: 0,
        deletingAt: null,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await this.o.store.createPipeline(record);
      } catch (err) {
        if (err instanceof DuplicatePipelineError)
          throw new PipelineError(
            409,
            err.code,
            err.message,
            { id: 'is taken by another pipeline' },
            { cause: err },
          );
        throw err;
      }
      this.log.info({ pipelineId: spec.id, instances: spec.instances }, 'pipeline created');
      this.wake(spec.id);
      return record;
    });
  }

  /**
   * Changes a pipeline: the body's top-level fields replace the stored ones. A change of
   * `instances` alone scales; one of `update_strategy` alone is stored; anything else is a new spec
   * version, rolled out by a rolling update.
   */
  patch(pipelineId: string, body: unknown): Promise<PatchResult> {
    return this.serial(async () => {
      const p = await this.o.store.getPipeline(pipelineId);
      if (!p) throw pipelineNotFound(pipelineId);
      if (p.deletingAt !== null)
        throw new PipelineError(
          409,
          'PIPELINE_DELETING',
          `pipeline ${JSON.stringify(pipelineId)} is being deleted`,
        );
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw invalidPipeline([{ field: '', message: 'a change must be a JSON object' }]);
      const given = body as Record<string, unknown>;
      if (given['id'] !== undefined && given['id'] !== pipelineId)
        throw invalidPipeline([
          { field: 'id', message: `must be "${pipelineId}" (the id in the path) or left out` },
        ]);
      const spec = this.parse({ ...p.spec, ...given, id: pipelineId });
      this.checkRunnable(p.cluster, spec);
      const kind = classifyPipelineChange(p.spec, spec);
      if (kind === 'unchanged') return kind;
      const now = this.o.clock.now();
      let next: PipelineRecord = { ...p, updatedAt: now };
      let newVersion: { version: number; spec: PipelineSpec } | undefined;
      if (kind === 'update') {
        const versions = await this.o.store.pipelineVersions(pipelineId);
        const version = Math.max(p.version, ...versions.keys()) + 1;
        next = { ...next, version, spec };
        newVersion = { version, spec };
      } else {
        const { autoscaling: _, ...rest } = p.spec;
        next = {
          ...next,
          spec: {
            ...rest,
            instances: spec.instances,
            update_strategy: spec.update_strategy,
            ...(spec.autoscaling ? { autoscaling: spec.autoscaling } : {}),
          },
        };
      }
      const saved = await this.o.store.savePipeline({
        pipeline: next,
        ...(newVersion ? { newVersion } : {}),
      });
      if (!saved) throw pipelineNotFound(pipelineId);
      this.log.info(
        { pipelineId, change: kind, version: next.version, instances: spec.instances },
        'pipeline changed',
      );
      this.wake(pipelineId);
      return kind;
    });
  }

  /** Starts deleting a pipeline: its instances are stopped, then it is gone. PipelineError 404. */
  remove(pipelineId: string): Promise<void> {
    return this.serial(async () => {
      const p = await this.o.store.getPipeline(pipelineId);
      if (!p) throw pipelineNotFound(pipelineId);
      if (p.deletingAt === null) {
        const now = this.o.clock.now();
        await this.o.store.savePipeline({ pipeline: { ...p, deletingAt: now, updatedAt: now } });
        this.log.info({ pipelineId }, 'pipeline deleting');
      }
      this.wake(pipelineId);
    });
  }

  /** A complete spec from the body: core's rules between fields, then what the server can serve. */
  private parse(raw: unknown): PipelineSpec {
    const parsed = parsePipelineSpec(raw);
    if (!parsed.ok) throw invalidPipeline(parsed.problems);
    // The schema bounds every posted field; a PATCH also keeps stored fields that may be beyond them.
    const problems = servingProblems(parsed.spec);
    if (problems.length > 0) throw invalidPipeline(problems);
    return parsed.spec;
  }

  private checkRunnable(cluster: string, spec: PipelineSpec): void {
    const runner = this.runnerOf(cluster);
    if (!runner)
      throw new PipelineError(
        422,
        'NO_PIPELINE_BACKEND',
        `cluster ${JSON.stringify(cluster)} cannot run pipelines`,
      );
    const problems = runner.problems(spec);
    if (problems.length > 0) throw invalidPipeline(problems);
  }

  // ---- syncing ----

  private async syncSafely(pipelineId: string): Promise<void> {
    try {
      await this.sync(pipelineId);
    } catch (err) {
      this.log.error({ err, pipelineId }, 'pipelines: sync failed; tried again shortly');
      this.followUp(pipelineId, this.o.clock.now() + RETRY_MS);
    }
  }

  private async sync(pipelineId: string): Promise<void> {
    if (!this.o.leadership.isLeader()) return;
    const { store } = this.o;
    const pipeline = await store.getPipeline(pipelineId);
    this.followUps.delete(pipelineId);
    if (!pipeline) return;
    const runner = this.runnerOf(pipeline.cluster);
    if (!runner) {
      this.log.warn({ pipelineId, cluster: pipeline.cluster }, 'pipelines: no backend runs this cluster');
      return;
    }
    const [instances, versions] = await Promise.all([
      store.pipelineInstances(pipelineId),
      store.pipelineVersions(pipelineId),
    ]);
    const plan = planSync({
      pipeline,
      instances,
      versions,
      now: this.o.clock.now(),
      epoch: this.o.leadership.epoch(),
      backoff: this.backoff,
      ...(this.scaleInOrder(pipelineId) ? { stopFirst: this.scaleInOrder(pipelineId)! } : {}),
    });
    const fence = this.o.leadership.fence();
    if (plan.change && !(await store.savePipeline(plan.change, fence))) return;
    if (plan.deletePipeline) {
      await store.deletePipeline(pipelineId, fence);
      this.log.info({ pipelineId }, 'pipeline deleted');
      return;
    }
    for (const launchId of plan.kill) await this.kill(runner, launchId);
    if (plan.launch.length > 0) this.o.dispatch.submit(pipeline.cluster, plan.launch);
    if (plan.followUpAt !== null) this.followUp(pipelineId, plan.followUpAt);
  }

  private followUp(pipelineId: string, at: number): void {
    const known = this.followUps.get(pipelineId);
    if (known === undefined || at < known) this.followUps.set(pipelineId, at);
    this.loop.wakeAt(at);
  }

  /** The follow-up timer fired: the pipelines due are synced, the next follow-up is armed. */
  private dueFollowUps(): void {
    const now = this.o.clock.now();
    // Timers may fire a few ms early.
    for (const [id, due] of this.followUps) if (due <= now + 5) this.dirty.add(id);
    const later = [...this.followUps.values()].filter((due) => due > now + 5);
    if (later.length > 0) this.loop.wakeAt(Math.min(...later));
  }

  // ---- backend events and recovery ----

  /** Stops a launch: withdrawn if it still waits for placement, else killed by its backend. */
  private async kill(runner: GroupRunner, launchId: string): Promise<void> {
    if (!this.o.dispatch.withdraw(launchId)) await runner.kill(launchId);
  }

  private onGroupEvents(cluster: string, events: GroupEvent[]): Promise<void> {
    return this.serial(() => this.applyEvents(cluster, events));
  }

  private async applyEvents(cluster: string, events: readonly GroupEvent[]): Promise<void> {
    const runner = this.runnerOf(cluster);
    if (!runner) return;
    const byPipeline = new Map<string, GroupEvent[]>();
    for (const e of events) {
      const id = parseLaunchId(e.launchId)?.pipelineId;
      if (id === undefined) continue;
      const list = byPipeline.get(id);
      if (list) list.push(e);
      else byPipeline.set(id, [e]);
    }
    for (const [pipelineId, list] of byPipeline) {
      const [pipeline, instances, versions] = await Promise.all([
        this.o.store.getPipeline(pipelineId),
        this.o.store.pipelineInstances(pipelineId),
        this.o.store.pipelineVersions(pipelineId),
      ]);
      const servable = pipeline !== null && unservableReason(pipeline.spec) === null;
      const byId = new Map(instances.map((i) => [i.state.instanceId, i]));
      const changed = new Map<string, InstanceRecord>();
      const kills = new Set<string>();
      const relaunch = new Set<string>();
      for (const e of list) {
        const instanceId = parseLaunchId(e.launchId)!.instanceId;
        const record = changed.get(instanceId) ?? byId.get(instanceId);
        const spec = record ? versions.get(record.state.version) : undefined;
        if (!record || !spec) {
          // An instance that is gone: whatever of it still runs must stop.
          if (e.type === 'process-state' && e.state === 'TASK_RUNNING') kills.add(e.launchId);
          continue;
        }
        const mayRelaunch = servable && unservableVersionReason(spec) === null;
        const effect = applyGroupEvent(record, e, spec, this.backoff, mayRelaunch);
        if (effect.record !== record) changed.set(instanceId, effect.record);
        if (effect.kill) kills.add(effect.kill);
        if (effect.relaunch) relaunch.add(instanceId);
      }
      await this.o.store.saveInstances([...changed.values()], this.o.leadership.fence());
      for (const launchId of kills) await this.kill(runner, launchId);
      const again = [...relaunch].map((instanceId) => {
        const record = changed.get(instanceId) ?? byId.get(instanceId)!;
        return groupLaunchOf(record, versions.get(record.state.version)!);
      });
      if (again.length > 0) this.o.dispatch.submit(cluster, again);
      this.wake(pipelineId);
    }
  }

  /** Hands every launch in flight to its backend to be found again (unless done), then syncs every pipeline. */
  private async recover(): Promise<void> {
    if (!this.handedOver) await this.handOver();
    await this.serial(async () => {
      const pipelines = await this.o.store.listPipelines();
      this.log.info({ pipelines: pipelines.length }, 'pipelines: recovered');
      for (const p of pipelines) {
        const why = unservableReason(p.spec);
        if (why !== null)
          this.log.warn(
            { pipelineId: p.pipelineId.slice(0, 100), reason: failedPipelineReason(why) },
            'pipelines: failed, nothing of it is launched',
          );
      }
      for (const p of pipelines) this.dirty.add(p.pipelineId);
    });
    for (const id of [...this.dirty]) this.wake(id);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.loop.serial(fn);
  }
}
