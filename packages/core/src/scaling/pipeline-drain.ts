/**
 * Drain-safe scale-in: which instances may stop when the count should fall. Pure.
 *
 * Galley asks each instance whether it is busy (the `GALLEY_DRAIN` contract, or GoCD's agent
 * state); idle instances go first, a busy one is never stopped while an idle one exists, and when
 * all are busy the count stays until some become idle (asked again each poll).
 */
import type { AutoscalingSource, SourceAuth } from './pipeline-autoscaling.js';

/** What an instance answered: `idle` may stop now; `busy` runs work; a failed question counts as busy. */
export type DrainAnswer = 'idle' | 'busy';

/** A process's drain contract (`processes.<name>.drain`). */
export type DrainSpec =
  | { http: { port: number | string; path: string } }
  | { gocd: { url?: string; auth?: SourceAuth } }
  | { signal: DrainSignal };

/** Signals a drain contract may name (the local supervisor defers exactly these). */
export type DrainSignal = 'SIGUSR1' | 'SIGUSR2' | 'SIGTERM' | 'SIGINT' | 'SIGHUP';

/** The plan of one scale-in step. */
export interface ScaleInPlan {
  /** The count to set now (between desired and current). */
  instances: number;
  /** The instances to stop, in order (all idle). */
  stop: string[];
  /** Why, for the decisions table. */
  reason: string;
}

/**
 * From `current` down toward `desired`: stops as many idle instances as the step needs, idle ones
 * in the order given (callers pass the youngest first), and keeps every busy one.
 */
export function planScaleIn(
  current: number,
  desired: number,
  answers: ReadonlyArray<{ instanceId: string; answer: DrainAnswer }>,
): ScaleInPlan {
  if (desired >= current) return { instances: desired, stop: [], reason: '' };
  const excess = current - desired;
  const idle = answers.filter((a) => a.answer === 'idle').map((a) => a.instanceId);
  const busy = answers.length - idle.length;
  const stop = idle.slice(0, excess);
  const instances = current - stop.length;
  if (stop.length === excess)
    return { instances, stop, reason: `stopping ${stop.length} idle: ${stop.join(', ')}` };
  const waiting = `${busy} busy instance${busy === 1 ? '' : 's'} kept until idle`;
  return {
    instances,
    stop,
    reason: stop.length > 0 ? `stopping ${stop.length} idle (${stop.join(', ')}); ${waiting}` : waiting,
  };
}

/**
 * The environment a process gets for its drain contract: `GALLEY_DRAIN` = `http:<port>:<path>`,
 * `signal:<NAME>` (on it the worker finishes its job and exits 0) or `gocd`, so a worker knows
 * which one Galley uses. A GoCD agent also gets what registers it as
 * this instance (`AGENT_AUTO_REGISTER_HOSTNAME` of the gocd-agent images and
 * `GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID` = the instance id, by which Galley finds its agent) and
 * the source's environment and resources; the auto-register key comes from the pipeline's own
 * environment (`GO_EA_AUTO_REGISTER_KEY` / `AGENT_AUTO_REGISTER_KEY`), so it is never Galley's to log.
 */
export function drainEnvironment(
  drain: DrainSpec | undefined,
  instanceId: string,
  source?: AutoscalingSource,
): Record<string, string> {
  if (drain === undefined) return {};
  if ('http' in drain) return { GALLEY_DRAIN: `http:${drain.http.port}:${drain.http.path}` };
  if ('signal' in drain) return { GALLEY_DRAIN: `signal:${drain.signal}` };
  const env: Record<string, string> = {
    GALLEY_DRAIN: 'gocd',
    AGENT_AUTO_REGISTER_HOSTNAME: instanceId,
    GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID: instanceId,
  };
  if (source?.type === 'gocd' && source.environment !== undefined) {
    env['AGENT_AUTO_REGISTER_ENVIRONMENTS'] = source.environment;
    env['GO_EA_AUTO_REGISTER_ENVIRONMENT'] = source.environment;
  }
  if (source?.type === 'gocd' && source.resources !== undefined)
    env['AGENT_AUTO_REGISTER_RESOURCES'] = source.resources.join(',');
  return env;
}
