import { Command, InvalidArgumentError, Option } from 'commander';
import {
  type EnvVarBody,
  type ExecuteBody,
  type LogsPage,
  type Run,
  type RunList,
  type StopAnswer,
} from '../../api/schemas/index.js';
import { RUN_STATUSES } from '../../api/schemas/statuses.js';
import { CliError, EXIT, type GalleyClient } from '../client.js';
import { historyTotal } from '../history-total.js';
import { formatDuration, formatTable } from '../table.js';
import { queueFields, type QueueRunOptions, withQueueFlags } from './queues.js';
import { retryFields, type RetryRunOptions } from './schedules.js';

/** The run fields the CLI shows. */
export type RunView = Pick<
  Run,
  | 'run_id'
  | 'alias'
  | 'status'
  | 'exit_code'
  | 'exit_reason'
  | 'queued_reason'
  | 'owner_id'
  | 'cluster'
  | 'queued_at'
  | 'started_at'
  | 'finished_at'
>;

function parseEnv(pairs: string[]): EnvVarBody[] {
  return pairs.map((pair) => {
    const cut = pair.indexOf('=');
    if (cut <= 0) throw new CliError(`--env ${pair}: expected KEY=VALUE`, EXIT.USAGE, 'BAD_ENV');
    return { name: pair.slice(0, cut), value: pair.slice(cut + 1) };
  });
}

/** One line about a run's state, for stderr. */
export function describeRun(r: RunView): string {
  let line = `run ${r.run_id}: ${r.status}`;
  if (r.status === 'QUEUED' && r.queued_reason) line += ` (${r.queued_reason})`;
  if (r.status === 'STOPPED')
    line += ` exit_code=${r.exit_code ?? 'none'}${r.exit_reason ? ` (${r.exit_reason})` : ''}`;
  return line;
}

/** Streams a run's output to stdout until the run stops. */
export async function followLogs(client: GalleyClient, runId: string): Promise<void> {
  const res = await client.raw('GET', `/${encodeURIComponent(runId)}/logs?follow=true`);
  if (!res.body) return;
  for await (const chunk of res.body) process.stdout.write(chunk);
}

/** Prints each status change of a run to stderr (from the SSE stream) until `signal` aborts. */
async function watchStatus(
  client: GalleyClient,
  runId: string,
  signal: AbortSignal,
  last: { status: string },
) {
  const res = await fetch(
    `${client.baseUrl.replace(/\/$/, '')}/api/v1/stream?run_id=${encodeURIComponent(runId)}`,
    { signal },
  );
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const data = buffer
        .slice(0, cut)
        .split('\n')
        .find((l) => l.startsWith('data: '));
      buffer = buffer.slice(cut + 2);
      if (!data) continue;
      const run = JSON.parse(data.slice(6)) as RunView;
      if (run.status !== last.status && run.status !== 'STOPPED')
        process.stderr.write(`galley: ${describeRun(run)}\n`);
      last.status = run.status;
    }
  }
}

/** What `galley run` takes: every field of an execute. */
export interface RunOptions extends QueueRunOptions, RetryRunOptions {
  env: string[];
  owner: string;
  tag: string[];
  cluster?: string;
  command?: string;
  memory?: number;
  cpu?: number;
  gpu?: number;
  disk?: number;
  description?: string;
  deadline?: number;
  idempotenceKey?: string;
  role?: string;
  constraint?: string[];
  engine?: string;
  follow?: boolean;
  json?: boolean;
}

/** A flag's whole number ≥ `min`, or a usage error naming the flag. */
function wholeNumber(flag: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${flag}: expected a whole number ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** The execute body of `galley run`'s flags: only the fields given. */
export function executeBody(opts: RunOptions): ExecuteBody {
  const tags: Record<string, string> = {};
  for (const pair of opts.tag) {
    const cut = pair.indexOf('=');
    if (cut <= 0) throw new CliError(`--tag ${pair}: expected KEY=VALUE`, EXIT.USAGE, 'BAD_TAG');
    tags[pair.slice(0, cut)] = pair.slice(cut + 1);
  }
  return {
    run_tags: { ...tags, owner_id: opts.owner },
    env: parseEnv(opts.env),
    ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
    ...(opts.command !== undefined ? { command: opts.command } : {}),
    ...(opts.memory !== undefined ? { memory: opts.memory } : {}),
    ...(opts.cpu !== undefined ? { cpu: opts.cpu } : {}),
    ...(opts.gpu !== undefined ? { gpu: opts.gpu } : {}),
    ...(opts.disk !== undefined ? { disk: opts.disk } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(opts.deadline !== undefined ? { active_deadline_seconds: opts.deadline } : {}),
    ...(opts.idempotenceKey !== undefined ? { idempotence_key: opts.idempotenceKey } : {}),
    ...(opts.role !== undefined ? { role: opts.role } : {}),
    ...(opts.constraint !== undefined ? { constraints: opts.constraint } : {}),
    ...(opts.engine !== undefined ? { engine: opts.engine } : {}),
    ...queueFields(opts),
    ...retryFields(opts),
  };
}

/** `galley run ALIAS`: executes a definition; with --follow, streams logs and status and exits with the run's exit code. */
export function runCommand(client: () => GalleyClient): Command {
  return withQueueFlags(
    new Command('run')
      .description('run a definition; --follow streams its output and status and exits with its exit code')
      .argument('<alias>', 'definition alias')
      // A bad flag value is a usage error (exit 2), as on the program.
      .exitOverride()
      .option(
        '-e, --env <KEY=VALUE>',
        'environment override (repeatable)',
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .option('--owner <id>', 'owner id (run_tags.owner_id)', process.env['USER'] ?? 'galley-cli')
      .option(
        '--tag <KEY=VALUE>',
        'another run tag (run_tags; repeatable; accepted, the server keeps only owner_id)',
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .option('--cluster <name>', "cluster (default: the definition's or the server's)")
      .option('--command <command>', "run this command instead of the definition's")
      .option('--memory <MB>', "memory in MB instead of the definition's", wholeNumber('--memory', 1))
      .option(
        '--cpu <millicores>',
        "CPU in millicores instead of the definition's (1000 = one CPU)",
        wholeNumber('--cpu', 1),
      )
      .option('--gpu <count>', "GPUs instead of the definition's", wholeNumber('--gpu', 0))
      .option('--disk <MB>', "disk in MB instead of the definition's (Mesos)", wholeNumber('--disk', 0))
      .option('--description <text>', "the run's description")
      .option(
        '--deadline <seconds>',
        "stop the run after this many seconds running (active_deadline_seconds; default: the definition's)",
        wholeNumber('--deadline', 1),
      )
      .option('--idempotence-key <key>', 'an execute with a key seen before answers the earlier run')
      .option('--role <role>', "Mesos role of the run (default: the definition's or the cluster's)")
      .option(
        '--constraint <constraint>',
        "agent attribute constraint, `zone:a`, `zone!=b`, `zone in a,b` (repeatable; replaces the definition's)",
        (v: string, acc: string[] | undefined) => [...(acc ?? []), v],
      )
      .option('--engine <engine>', 'accepted for Flotilla clients; the cluster decides the engine')
      .option('-f, --follow', "stream logs and live status; exit with the run's exit code")
      .option('--json', 'print the run as JSON')
      .action(async (alias: string, opts: RunOptions) => {
        const c = client();
        const body = executeBody(opts);
        const run = await c.json<RunView>('PUT', `/task/alias/${encodeURIComponent(alias)}/execute`, body);
        if (!opts.follow) {
          process.stdout.write(opts.json ? `${JSON.stringify(run, null, 2)}\n` : `${run.run_id}\n`);
          return;
        }
        process.stderr.write(`galley: ${describeRun(run)}\n`);
        const abort = new AbortController();
        const last = { status: run.status };
        const watching = watchStatus(c, run.run_id, abort.signal, last).catch(() => undefined);
        try {
          await followLogs(c, run.run_id);
        } finally {
          abort.abort();
          await watching;
        }
        const final = await c.json<RunView>('GET', `/history/${encodeURIComponent(run.run_id)}`);
        process.stderr.write(`galley: ${describeRun(final)}\n`);
        process.exitCode = final.exit_code ?? 1;
      }),
  );
}

/** CPU in millicores, as the definition gives it: `500m CPU`, `2 CPU`. */
function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? `${millicores / 1000} CPU` : `${millicores}m CPU`;
}

/** What `galley runs show` prints: the run, its image, its limits, its usage and any OOM. */
export function describeRunDetails(r: Run): string {
  const rows: [string, string][] = [
    ['run', r.run_id],
    ['task', r.group_name ? `${r.alias} (${r.group_name})` : r.alias],
    ['status', describeRun(r).replace(/^run \S+: /, '')],
    [
      'cluster',
      `${r.cluster} (${r.engine} backend)${r.instance.dns_name ? ` on ${r.instance.dns_name}` : ''}`,
    ],
    [
      'image',
      `${r.image || '(none)'}${r.runs_on_host ? ' (not used: the command runs on the host, without a container)' : ' (run in a container)'}`,
    ],
    ['command', r.command],
    [
      'limits',
      `${formatCpu(r.cpu)}, ${r.memory} MB${r.gpu ? `, ${r.gpu} GPU` : ''}${r.runs_on_host ? ' (on the host: /clusters says whether the limits hold)' : ''}`,
    ],
    [
      'used',
      r.max_memory_used === null && r.max_cpu_used === null
        ? 'not measured'
        : `peak ${r.max_memory_used ?? '?'} MB memory, peak ${r.max_cpu_used === null ? '?' : formatCpu(r.max_cpu_used)}`,
    ],
  ];
  for (const e of r.run_exceptions ?? []) rows.push(['exception', e]);
  rows.push(
    ['queued', r.queued_at ?? ''],
    ['started', r.started_at ?? ''],
    ['finished', r.finished_at ?? ''],
  );
  return rows.map(([k, v]) => `${k.padEnd(10)}  ${v}`).join('\n');
}

/** `galley runs show RUN`: one run in full. */
function showCommand(client: () => GalleyClient): Command {
  return new Command('show')
    .description('show one run: status, image, limits, usage and any out-of-memory kill')
    .argument('<run_id>')
    .option('--json', 'print the API answer as JSON')
    .action(async (runId: string, opts: { json?: boolean }) => {
      const run = await client().json<Run>('GET', `/history/${encodeURIComponent(runId)}`);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
      process.stdout.write(`${describeRunDetails(run)}\n`);
    });
}

/** `galley runs`: a table of recent runs, newest first; `galley runs show RUN`: one run. */
export function runsCommand(client: () => GalleyClient): Command {
  return new Command('runs')
    .description('list runs, newest first (`runs show RUN_ID`: one run in full)')
    .addCommand(showCommand(client))
    .addOption(new Option('--status <status...>', 'only these statuses').choices(RUN_STATUSES))
    .option('--alias <alias>', 'only runs of this definition alias')
    .option('--owner <id>', 'only runs of this owner')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print the API answer as JSON')
    .action(
      async (opts: { status?: string[]; alias?: string; owner?: string; limit: string; json?: boolean }) => {
        if (!/^\d+$/.test(opts.limit))
          throw new CliError(`--limit ${opts.limit}: expected a number`, EXIT.USAGE, 'BAD_LIMIT');
        const q = new URLSearchParams({ limit: opts.limit });
        for (const s of opts.status ?? []) q.append('status', s);
        if (opts.alias) q.set('alias', opts.alias);
        if (opts.owner) q.set('owner_id', opts.owner);
        const page = await client().json<RunList>('GET', `/history?${q}`);
        if (opts.json) return void process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        const ms = (t: string | null) => (t === null ? null : Date.parse(t));
        const rows = page.history.map((r) => {
          const start = ms(r.started_at);
          const end = ms(r.finished_at) ?? (start === null ? null : Date.now());
          return [
            r.run_id,
            r.alias,
            r.status,
            r.exit_code === null ? '' : String(r.exit_code),
            r.owner_id,
            r.queued_at ?? '',
            formatDuration(start === null || end === null ? null : end - start),
            r.status === 'QUEUED' ? (r.queued_reason ?? '') : (r.exit_reason ?? ''),
          ];
        });
        process.stdout.write(
          `${formatTable(['RUN ID', 'ALIAS', 'STATUS', 'EXIT', 'OWNER', 'QUEUED AT', 'RAN', 'REASON'], rows)}\n`,
        );
        process.stderr.write(`${page.history.length} of ${historyTotal(page)} runs\n`);
      },
    );
}

/** `galley logs RUN`: prints a run's output; --follow streams it until the run stops. */
export function logsCommand(client: () => GalleyClient): Command {
  return new Command('logs')
    .description("print a run's output (stdout, then stderr); --follow streams it until the run stops")
    .argument('<run_id>')
    .option('-f, --follow', 'stream new output until the run stops')
    .action(async (runId: string, opts: { follow?: boolean }) => {
      const c = client();
      if (opts.follow) return followLogs(c, runId);
      let token = '';
      for (;;) {
        const q = new URLSearchParams({ max_bytes: '1048576' });
        if (token) q.set('last_seen', token);
        const page = await c.json<LogsPage>('GET', `/${encodeURIComponent(runId)}/logs?${q}`);
        if (page.log === '') return;
        process.stdout.write(page.log);
        token = page.last_seen;
      }
    });
}

/** `galley stop RUN`: stops a run and says what happened. */
export function stopCommand(client: () => GalleyClient): Command {
  return new Command('stop')
    .description('stop a run: at once if it waits, SIGTERM (then SIGKILL) if it runs')
    .argument('<run_id>')
    .action(async (runId: string) => {
      const answer = await client().json<StopAnswer>('POST', `/history/${encodeURIComponent(runId)}/stop`);
      process.stdout.write(`${runId}: ${answer.message}\n`);
    });
}
