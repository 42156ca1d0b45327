import { decideAutoscale, type MetricReading, planScaleIn } from '@galley/core';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Leadership } from '../control/leadership.js';
import type { PipelineRecord } from '../model/pipeline-records.js';
import type { PipelineController } from '../pipelines/controller.js';
import type { PipelineRepository } from '../store/store.js';
import type { AutoscalingRecords } from './decisions.js';
import { askInstances, drainOf, gocdRound, type InstanceAnswer, liveInstances } from './drain.js';
import { GocdAgents, isAgentOf } from './gocd.js';
import { readMetric } from './sources.js';

/** What the autoscaler works with. */
export interface AutoscalerOptions {
  store: PipelineRepository;
  records: AutoscalingRecords;
  pipelines: PipelineController;
  leadership: Leadership;
  clock: Clock;
  logger: Logger;
  /** Longest wait for a metric source or a drain answer (ms); default 10 s, at most the polling interval. */
  timeoutMs?: number;
}

/** Longest pause between two looks at the pipelines (a new or changed policy is seen this soon). */
const SCAN_MS = 1_000;

/**
 * The autoscaler: on the leader only, every pipeline with `autoscaling` is looked at every
 * `polling_interval_seconds`: its metric is read, core decides the count (`decideAutoscale`), a
 * scale-in is made drain-safe (`planScaleIn` over the instances' answers; the idle ones are handed
 * to the pipeline controller as the ones to stop first), the count is set through the controller
 * as a PATCH of `instances` is, and the decision is recorded with its reason. The windows'
 * recommendations are in the store, so a new leader resumes them.
 */
export class Autoscaler {
  private readonly due = new Map<string, number>();
  private readonly stopFirst = new Map<string, readonly string[]>();
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly o: AutoscalerOptions) {
    this.log = o.logger;
    o.pipelines.setScaleInOrder((id) => this.stopFirst.get(id));
    o.leadership.onChange((leader) => {
      if (leader) this.schedule(0);
      else this.pause();
    });
  }

  /** Starts looking (when this replica leads). */
  start(): void {
    if (this.o.leadership.isLeader()) this.schedule(0);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pause();
    await this.pass;
  }

  private pause(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.due.clear();
    this.stopFirst.clear();
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pass = this.scan()
        .catch((err: unknown) => this.log.error({ err }, 'autoscaling: pass failed'))
        .finally(() => {
          if (this.o.leadership.isLeader()) this.schedule(this.nextWait());
        });
    }, ms);
    this.timer.unref?.();
  }

  private nextWait(): number {
    const now = this.o.clock.now();
    const next = Math.min(now + SCAN_MS, ...this.due.values());
    return Math.max(50, next - now);
  }

  /** One pass: every autoscaled pipeline whose time has come is evaluated (concurrently). */
  private async scan(): Promise<void> {
    if (!this.o.leadership.isLeader()) return;
    const all = await this.o.store.listPipelines();
    const pipelines = all.filter((p) => p.spec.autoscaling !== undefined && p.deletingAt === null);
    const ids = new Set(pipelines.map((p) => p.pipelineId));
    const exist = new Set(all.map((p) => p.pipelineId));
    for (const id of [...this.due.keys()]) {
      if (ids.has(id)) continue;
      this.due.delete(id);
      this.stopFirst.delete(id);
      // A deleted pipeline's decisions go with it (a new one of the same id starts afresh).
      if (!exist.has(id)) await this.o.records.forget(id);
    }
    const now = this.o.clock.now();
    const dueNow = pipelines.filter((p) => (this.due.get(p.pipelineId) ?? 0) <= now);
    await Promise.all(
      dueNow.map(async (p) => {
        const every = p.spec.autoscaling!.polling_interval_seconds * 1000;
        this.due.set(p.pipelineId, now + every);
        try {
          await this.evaluate(p);
        } catch (err) {
          this.log.warn(
            { err, pipelineId: p.pipelineId },
            'autoscaling: evaluation failed; tried again next interval',
          );
        }
      }),
    );
  }

  /** Reads the metric, decides, drains, sets the count and records the decision. */
  private async evaluate(p: PipelineRecord): Promise<void> {
    const policy = p.spec.autoscaling!;
    const id = p.pipelineId;
    const timeoutMs = Math.min(this.o.timeoutMs ?? 10_000, policy.polling_interval_seconds * 1000);
    const drain = drainOf(p.spec);
    const gocdUrl =
      drain && 'gocd' in drain.drain
        ? (drain.drain.gocd.url ?? (policy.source.type === 'gocd' ? policy.source.url : undefined))
        : undefined;
    const gocdAuth =
      drain && 'gocd' in drain.drain
        ? (drain.drain.gocd.auth ?? (policy.source.type === 'gocd' ? policy.source.auth : undefined))
        : undefined;
    let metric: MetricReading;
    try {
      metric = {
        value: await readMetric(policy.source, {
          timeoutMs,
          queuedRuns: (filter) => this.o.records.queuedRuns(filter),
          // The pipeline's own agents that build count with the scheduled jobs (the backlog in flight).
          ...(gocdUrl !== undefined
            ? {
                gocdBuilding: async () =>
                  (await new GocdAgents(gocdUrl, gocdAuth, timeoutMs).list()).filter(
                    (a) => isAgentOf(a, id) && a.build_state === 'Building',
                  ).length,
              }
            : {}),
        }),
      };
    } catch (err) {
      metric = { error: err instanceof Error ? err.message : String(err) };
    }
    const [history, instances] = await Promise.all([
      this.o.records.recommendations(id),
      this.o.store.pipelineInstances(id),
    ]);
    const current = p.spec.instances;
    const now = this.o.clock.now();
    const decision = decideAutoscale({ policy, current, metric, now, history });
    let target = decision.desired;
    let reason = decision.reason;
    const live = liveInstances(instances);
    let answers: InstanceAnswer[] | null = null;
    if (gocdUrl !== undefined) {
      // GoCD's drain runs every round: pending agents enabled, gone ones deleted, disables undone.
      try {
        const round = await gocdRound({
          url: gocdUrl,
          auth: gocdAuth,
          pipelineId: id,
          live,
          known: new Set(instances.map((i) => i.state.instanceId)),
          excess: current - target,
          timeoutMs,
        });
        answers = round.answers;
        const a = round.actions;
        const said = [
          a.enabled.length ? `GoCD agents enabled: ${a.enabled.join(', ')}` : '',
          a.disabled.length ? `disabled: ${a.disabled.join(', ')}` : '',
          a.reenabled.length ? `re-enabled: ${a.reenabled.join(', ')}` : '',
          a.deleted.length ? `deleted: ${a.deleted.join(', ')}` : '',
        ].filter(Boolean);
        if (said.length > 0) reason += `; ${said.join('; ')}`;
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        answers = live.map((i) => ({ instanceId: i.state.instanceId, answer: 'busy', why }));
        reason += `; GoCD agents unavailable (${why})`;
      }
    }
    if (target < current) {
      answers ??= await askInstances(live, drain, timeoutMs);
      // Instances the spec counts but that have no live record yet (just scaled up) are idle.
      const plan = planScaleIn(current, target, answers);
      target = plan.instances;
      reason += `; ${plan.reason}`;
      this.stopFirst.set(id, plan.stop);
    } else {
      this.stopFirst.delete(id);
    }
    if (!this.o.leadership.isLeader()) return;
    if (target !== current) await this.o.pipelines.patch(id, { instances: target });
    await this.o.records.record(
      {
        pipelineId: id,
        at: now,
        metric: 'value' in metric ? metric.value : null,
        error: 'error' in metric ? metric.error : null,
        current,
        desired: target,
        reason,
      },
      decision.history,
    );
    if (target !== current)
      this.log.info({ pipelineId: id, from: current, to: target, reason }, 'autoscaling: instances set');
  }
}
