import { type Command, Command as Cmd, InvalidArgumentError } from 'commander';
import type { Schedule, ScheduleList, Webhook } from '../../api/schemas/schedules.js';
import type { GalleyClient } from '../client.js';
import { formatTable } from '../table.js';

// `galley schedule …`, `galley webhook …` and `galley run`'s retry flags (issue 16). Client code
// only: the API's types, nothing of the server.

/** `galley run`'s retry flags. */
export interface RetryRunOptions {
  retryAttempts?: number;
  retryOnExit?: string[];
}

function attempts(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < 1 || n > 10)
    throw new InvalidArgumentError(`--retry-attempts: expected a whole number from 1 to 10, got "${value}"`);
  return n;
}

function exitPattern(value: string, acc: string[] | undefined): string[] {
  if (!/^(\*|[0-9]{1,3}\*?)$/.test(value))
    throw new InvalidArgumentError(
      `--retry-on-exit: expected an exit code or a prefix like 13*, got "${value}"`,
    );
  return [...(acc ?? []), value];
}

/** Adds `--retry-attempts N` and `--retry-on-exit CODE` (repeatable) to `galley run`. */
export function withRetryFlags(cmd: Command): Command {
  return cmd
    .option(
      '--retry-attempts <N>',
      "launches in total, 1 to 10 (retry_strategy.attempts; default: the definition's)",
      attempts,
    )
    .option(
      '--retry-on-exit <code>',
      'retry when the program exits with this code or prefix (`3`, `13*`; repeatable); any other exit code is final',
      exitPattern,
    );
}

/** The `retry_strategy` of `galley run`'s flags, when any is given. */
export function retryFields(opts: RetryRunOptions) {
  if (opts.retryAttempts === undefined && opts.retryOnExit === undefined) return {};
  return {
    retry_strategy: {
      ...(opts.retryAttempts !== undefined ? { attempts: opts.retryAttempts } : {}),
      ...(opts.retryOnExit !== undefined
        ? {
            evaluate_on_exit: [
              ...opts.retryOnExit.map((code) => ({ on_exit_code: code, action: 'retry' as const })),
              { on_reason: 'exit', action: 'exit' as const },
            ],
          }
        : {}),
    },
  };
}

/** One line per schedule: id, definition, cron and zone, policy, state and the next fire times. */
function scheduleTable(list: Schedule[], next: number): string {
  return formatTable(
    ['ID', 'DEFINITION', 'CRON', 'TIME ZONE', 'CONCURRENCY', 'STATE', 'NEXT RUNS'],
    list.map((s) => [
      s.schedule_id,
      s.definition_id,
      s.cron,
      s.timezone,
      s.concurrency,
      s.paused ? 'paused' : 'active',
      s.next_runs.slice(0, next).join(', ') || '-',
    ]),
    120,
  );
}

/** What a command prints of one schedule: its line, and its next fire times one per line. */
function printSchedule(s: Schedule, json: boolean | undefined): void {
  if (json) return void process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
  process.stdout.write(`${scheduleTable([s], 1)}\n`);
  process.stdout.write(
    s.next_runs.length
      ? `next runs:\n${s.next_runs.map((t) => `  ${t}`).join('\n')}\n`
      : 'paused: no next runs\n',
  );
}

/** `galley schedule create|list|show|pause|resume|rm`. */
export function scheduleCommand(client: () => GalleyClient): Command {
  const cmd = new Cmd('schedule').description('cron schedules of definitions: they run them at their times');
  cmd
    .command('create <definition>')
    .description('schedule a definition (by alias or id); prints the schedule and its next runs')
    .requiredOption(
      '--cron <expression>',
      'cron expression, 5 fields or 6 with seconds first, e.g. "0 9 * * 1-5"',
    )
    .option('--tz <zone>', 'IANA time zone, e.g. Europe/Paris', 'UTC')
    .option(
      '--concurrency <policy>',
      'allow | forbid | replace, when the previous run is still running',
      'allow',
    )
    .option('--catch-up <N>', 'after downtime, how many missed ticks still run (default 1)')
    .option('--starting-deadline <seconds>', 'skip a tick not started within this many seconds')
    .option('--owner <id>', "the runs' owner", 'schedule')
    .option('--paused', 'create it paused')
    .option('--json', 'print JSON')
    .action(
      async (
        definition: string,
        opts: {
          cron: string;
          tz: string;
          concurrency: string;
          catchUp?: string;
          startingDeadline?: string;
          owner: string;
          paused?: boolean;
          json?: boolean;
        },
      ) => {
        const c = client();
        const def = await c
          .json<{ definition_id: string }>('GET', `/task/alias/${encodeURIComponent(definition)}`)
          .catch(() => ({ definition_id: definition }));
        const s = await c.json<Schedule>('POST', `/task/${encodeURIComponent(def.definition_id)}/schedules`, {
          cron: opts.cron,
          timezone: opts.tz,
          concurrency: opts.concurrency,
          owner_id: opts.owner,
          ...(opts.catchUp !== undefined ? { catch_up: Number(opts.catchUp) } : {}),
          ...(opts.startingDeadline !== undefined
            ? { starting_deadline_seconds: Number(opts.startingDeadline) }
            : {}),
          ...(opts.paused ? { paused: true } : {}),
        });
        printSchedule(s, opts.json);
      },
    );
  cmd
    .command('list')
    .description('every schedule with its next run')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await client().json<ScheduleList>('GET', '/schedules');
      process.stdout.write(
        opts.json ? `${JSON.stringify(list, null, 2)}\n` : `${scheduleTable(list.schedules, 1)}\n`,
      );
    });
  cmd
    .command('show <id>')
    .description('one schedule: its next runs and its last ticks')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const s = await client().json<Schedule>('GET', `/schedules/${encodeURIComponent(id)}`);
      printSchedule(s, opts.json);
      if (opts.json) return;
      for (const f of s.recent_fires ?? [])
        process.stdout.write(
          `  ${f.tick}  ${f.run_id ? `run ${f.run_id}` : `skipped: ${f.skipped_reason ?? 'starting'}`}\n`,
        );
    });
  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const)
    cmd
      .command(`${name} <id>`)
      .description(
        paused ? 'pause a schedule (its ticks do not run)' : 'resume a schedule; prints its next runs',
      )
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { json?: boolean }) => {
        const s = await client().json<Schedule>('PATCH', `/schedules/${encodeURIComponent(id)}`, { paused });
        printSchedule(s, opts.json);
      });
  cmd
    .command('rm <id>')
    .description('delete a schedule (its runs stay)')
    .action(async (id: string) => {
      await client().json('DELETE', `/schedules/${encodeURIComponent(id)}`);
      process.stdout.write(`deleted schedule ${id}\n`);
    });
  return cmd;
}

/** `galley webhook create|list|rm|deliveries`. */
export function webhookCommand(client: () => GalleyClient): Command {
  const cmd = new Cmd('webhook').description('webhooks: run status changes POSTed, HMAC-signed, to a URL');
  cmd
    .command('create <url>')
    .description('add a webhook; prints its signing secret, which is shown this once')
    .option('--definition <id>', 'only runs of this definition id')
    .option(
      '--event <event>',
      'run.queued, run.pending, run.running, run.needs_retry or run.stopped (repeatable; default all)',
      (v: string, acc: string[] | undefined) => [...(acc ?? []), v],
    )
    .action(async (url: string, opts: { definition?: string; event?: string[] }) => {
      const w = await client().json<Webhook>('POST', '/webhooks', {
        url,
        ...(opts.definition !== undefined ? { definition_id: opts.definition } : {}),
        ...(opts.event !== undefined ? { events: opts.event } : {}),
      });
      process.stdout.write(
        `webhook ${w.webhook_id}\nsecret  ${w.secret ?? ''}  (shown once: keep it to check X-Galley-Signature)\n`,
      );
    });
  cmd
    .command('list')
    .description('every webhook')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await client().json<{ webhooks: Webhook[] }>('GET', '/webhooks');
      if (opts.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      process.stdout.write(
        `${formatTable(
          ['ID', 'URL', 'DEFINITION', 'EVENTS'],
          list.webhooks.map((w) => [w.webhook_id, w.url, w.definition_id ?? '(all)', w.events.join(',')]),
          120,
        )}\n`,
      );
    });
  cmd
    .command('deliveries <id>')
    .description("a webhook's delivery log, newest first")
    .action(async (id: string) => {
      const log = await client().json<{
        deliveries: {
          outbox_id: number;
          event: string;
          run_id: string | null;
          pipeline_id: string | null;
          attempt: number;
          at: string;
          status_code: number | null;
          error: string | null;
        }[];
      }>('GET', `/webhooks/${encodeURIComponent(id)}/deliveries`);
      process.stdout.write(
        `${formatTable(
          ['SEQ', 'EVENT', 'RUN / PIPELINE', 'ATTEMPT', 'AT', 'RESULT'],
          log.deliveries.map((d) => [
            String(d.outbox_id),
            d.event,
            d.run_id ?? d.pipeline_id ?? '',
            String(d.attempt),
            d.at,
            d.error ?? `HTTP ${d.status_code}`,
          ]),
          120,
        )}\n`,
      );
    });
  cmd
    .command('rm <id>')
    .description('delete a webhook')
    .action(async (id: string) => {
      await client().json('DELETE', `/webhooks/${encodeURIComponent(id)}`);
      process.stdout.write(`deleted webhook ${id}\n`);
    });
  return cmd;
}
