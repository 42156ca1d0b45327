/**
 * Whether a stored pipeline spec can be served at all. The server's schema bounds every field of a
 * posted spec (`PipelineBody` of `@galley/server/api`), but a spec stored before a bound existed
 * may be beyond it: a billion instances (planning them exhausts memory), an id no route, launch id
 * or file name can hold, a health-check interval Node's timers cannot wait for (they fire after
 * 1 ms instead). `servingProblems` finds what of a stored spec the pipeline controller cannot carry
 * out safely; such a pipeline is shown failed, launches nothing, and can still be deleted.
 *
 * The limits equal the schema's (a server test keeps them equal), so every spec the API accepts
 * today is servable. Pure; the input may be any JSON (a stored record is not trusted).
 */
import type { SpecProblem } from './spec.js';

/** What the controller can serve: the same numbers as the schema's `PIPELINE_LIMITS`. */
export const PIPELINE_SERVING_LIMITS = Object.freeze({
  /** Characters of a pipeline id or a process name (they name routes, launch ids and files). */
  idLength: 63,
  instances: 1000,
  processes: 100,
  cpu: 256,
  memMb: 4_194_304,
  diskMb: 16_777_216,
  portMappings: 100,
  /** Seconds: kill grace, health-check intervals, timeouts and grace, min_healthy_seconds. */
  seconds: 3600,
  /** Shortest health-check interval and timeout, in seconds. */
  minCheckSeconds: 0.1,
  maxConsecutiveFailures: 100,
  progressDeadlineSeconds: 86_400,
  surge: 1000,
});
const L = PIPELINE_SERVING_LIMITS;

const ID = /^[a-zA-Z0-9_-]+$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects problems; each check names its field. */
class Checker {
  readonly problems: SpecProblem[] = [];

  add(field: string, message: string): void {
    if (this.problems.length < 20) this.problems.push({ field, message });
  }

  id(field: string, value: unknown, what: string): void {
    if (typeof value !== 'string' || value.length === 0 || value.length > L.idLength || !ID.test(value))
      this.add(
        field,
        `${describe(value)} is not a ${what} the server can serve: 1 to ${L.idLength} letters, digits, _ or -`,
      );
  }

  /** A number within [min, max] (an integer when `integer`); `optional` lets undefined pass. */
  number(
    field: string,
    value: unknown,
    min: number,
    max: number,
    o: { integer?: boolean; optional?: boolean; unit?: string } = {},
  ): void {
    if (value === undefined && o.optional) return;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      value >= min &&
      value <= max &&
      (!o.integer || Number.isInteger(value));
    if (!ok) {
      const kind = o.integer ? 'a whole number' : 'a number';
      this.add(
        field,
        `${describe(value)} is beyond what the server can serve: ${kind} from ${min} to ${max}${o.unit ?? ''}`,
      );
    }
  }

  count(field: string, value: unknown, max: number, what: string): void {
    const n = Array.isArray(value) ? value.length : isObject(value) ? Object.keys(value).length : 0;
    if (n > max) this.add(field, `${n} ${what} are beyond what the server can serve (at most ${max})`);
  }
}

/** A value as a short phrase for a message (a long string is cut). */
function describe(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 40 ? `an id of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return value === undefined ? 'nothing' : `a ${Array.isArray(value) ? 'list' : typeof value}`;
}

function checkHealth(c: Checker, at: string, check: unknown, ports: number): void {
  if (check === undefined) return;
  if (!isObject(check)) return c.add(at, 'is not an object');
  const s = { unit: ' s', optional: true };
  c.number(`${at}.interval_seconds`, check['interval_seconds'], L.minCheckSeconds, L.seconds, s);
  c.number(`${at}.timeout_seconds`, check['timeout_seconds'], L.minCheckSeconds, L.seconds, s);
  c.number(`${at}.grace_period_seconds`, check['grace_period_seconds'], 0, L.seconds, s);
  c.number(`${at}.max_consecutive_failures`, check['max_consecutive_failures'], 1, L.maxConsecutiveFailures, {
    integer: true,
    optional: true,
  });
  if (check['protocol'] === 'HTTP' || check['protocol'] === 'TCP')
    c.number(`${at}.port_index`, check['port_index'], 0, Math.max(0, ports - 1), {
      integer: true,
      optional: true,
    });
}

function checkProcess(c: Checker, key: string, p: unknown): void {
  const at = `processes.${key}`;
  c.id(at, key, 'process name');
  if (!isObject(p)) return c.add(at, 'is not an object');
  const r = p['resources'];
  if (!isObject(r)) c.add(`${at}.resources`, 'is not an object');
  else {
    c.number(`${at}.resources.cpu`, r['cpu'], 0, L.cpu);
    c.number(`${at}.resources.mem`, r['mem'], 0, L.memMb, { unit: ' MB' });
    c.number(`${at}.resources.disk`, r['disk'], 0, L.diskMb, { unit: ' MB', optional: true });
  }
  const mappings = p['port_mappings'];
  c.count(`${at}.port_mappings`, mappings, L.portMappings, 'port mappings');
  const list = Array.isArray(mappings) ? mappings : [];
  list.slice(0, L.portMappings).forEach((m, i) => {
    if (!isObject(m)) return c.add(`${at}.port_mappings.${i}`, 'is not an object');
    c.number(`${at}.port_mappings.${i}.host_port`, m['host_port'], 0, 65535, { integer: true });
  });
  c.number(`${at}.kill_grace_period`, p['kill_grace_period'], 0, L.seconds, { unit: ' s', optional: true });
  checkHealth(c, `${at}.health_check`, p['health_check'], list.length);
}

function checkStrategy(c: Checker, s: unknown): void {
  if (s === undefined) return;
  if (!isObject(s)) return c.add('update_strategy', 'is not an object');
  for (const key of ['max_surge', 'max_unavailable']) {
    const v = s[key];
    if (typeof v === 'string') {
      if (!/^\d{1,3}(\.\d{1,6})?%$/.test(v) || parseFloat(v) > 100)
        c.add(`update_strategy.${key}`, `${describe(v)} is not a percentage from 0% to 100%`);
    } else c.number(`update_strategy.${key}`, v, 0, L.surge, { integer: true, optional: true });
  }
  c.number('update_strategy.min_healthy_seconds', s['min_healthy_seconds'], 0, L.seconds, {
    unit: ' s',
    optional: true,
  });
  c.number(
    'update_strategy.progress_deadline_seconds',
    s['progress_deadline_seconds'],
    1,
    L.progressDeadlineSeconds,
    {
      unit: ' s',
      optional: true,
    },
  );
}

/**
 * What keeps the controller from serving this stored spec (field and words, as core's problems),
 * at most 20; empty when it can be served.
 */
export function servingProblems(spec: unknown): SpecProblem[] {
  const c = new Checker();
  if (!isObject(spec)) {
    c.add('', 'the stored spec is not an object');
    return c.problems;
  }
  c.id('id', spec['id'], 'pipeline id');
  c.number('instances', spec['instances'], 0, L.instances, { integer: true });
  const processes = spec['processes'];
  if (!isObject(processes) || Object.keys(processes).length === 0)
    c.add('processes', 'the stored spec has no processes');
  else {
    c.count('processes', processes, L.processes, 'processes');
    for (const [key, p] of Object.entries(processes).slice(0, L.processes)) checkProcess(c, key, p);
  }
  const executor = spec['executor_resources'];
  if (isObject(executor)) {
    c.number('executor_resources.cpu', executor['cpu'], 0, L.cpu, { optional: true });
    c.number('executor_resources.mem', executor['mem'], 0, L.memMb, { unit: ' MB', optional: true });
    c.number('executor_resources.disk', executor['disk'], 0, L.diskMb, { unit: ' MB', optional: true });
  }
  checkStrategy(c, spec['update_strategy']);
  return c.problems;
}

/** The problems as one sentence for people: `field: words; …`. */
export function describeServingProblems(problems: readonly SpecProblem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ');
}
