import { type Command, Command as Cmd, InvalidArgumentError } from 'commander';
import type { DependencyBody, QueueList } from '../../api/schemas/queues.js';
import type { GalleyClient } from '../client.js';
import { formatTable } from '../table.js';

/** `galley run`'s queue, array and dependency flags. */
export interface QueueRunOptions {
  queue?: string;
  array?: number;
  parallelism?: number;
  after?: string[];
}

function wholeNumber(flag: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${flag}: expected a whole number ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** `RUN`, `RUN:ended`, `RUN:per-index`, `RUN:ended:per-index` as a dependency; a usage error otherwise. */
export function parseAfter(value: string): DependencyBody {
  const [runId, ...flags] = value.split(':');
  const bad = flags.find((f) => f !== 'ended' && f !== 'succeeded' && f !== 'per-index');
  if (!runId || bad !== undefined)
    throw new InvalidArgumentError(`--after ${value}: expected RUN[:ended|:succeeded][:per-index]`);
  return {
    run_id: runId,
    condition: flags.includes('ended') ? 'ended' : 'succeeded',
    ...(flags.includes('per-index') ? { per_index: true } : {}),
  };
}

/** Adds the queue, array and dependency flags to `galley run`. */
export function withQueueFlags(cmd: Command): Command {
  return cmd
    .option('--queue <name>', 'the queue to wait in (default: `default`)')
    .option(
      '--array <N>',
      'run N copies as an array (2 to 10000), each with GALLEY_ARRAY_INDEX',
      wholeNumber('--array', 2),
    )
    .option(
      '--parallelism <P>',
      "most of the array's children running at once",
      wholeNumber('--parallelism', 1),
    )
    .option(
      '--after <RUN[:ended][:per-index]>',
      'wait for RUN to succeed (`:ended`: to end; `:per-index`: child i waits for its child i) (repeatable)',
      (v: string, acc: string[] | undefined) => [...(acc ?? []), v],
    );
}

/** The execute fields of the flags: only those given. */
export function queueFields(opts: QueueRunOptions) {
  return {
    ...(opts.queue !== undefined ? { queue: opts.queue } : {}),
    ...(opts.array !== undefined ? { array_size: opts.array } : {}),
    ...(opts.parallelism !== undefined ? { array_parallelism: opts.parallelism } : {}),
    ...(opts.after !== undefined ? { depends_on: opts.after.map(parseAfter) } : {}),
  };
}

/** `galley queues`: the queues, their priority, limits and what waits and runs in each. */
export function queuesCommand(client: () => GalleyClient): Command {
  return new Cmd('queues')
    .description('list the queues: priority, limits, runs waiting and running')
    .option('--json', 'print them as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { queues } = await client().json<QueueList>('GET', '/queues');
      if (opts.json) return void process.stdout.write(`${JSON.stringify(queues, null, 2)}\n`);
      const limit = (n: number | null, unit = '') => (n === null ? '-' : `${n}${unit}`);
      process.stdout.write(
        `${formatTable(
          ['NAME', 'PRIORITY', 'QUEUED', 'RUNNING', 'PER OWNER', 'PER GROUP', 'OWNER CPU', 'OWNER MEMORY'],
          queues.map((q) => [
            q.name,
            String(q.priority),
            String(q.queued),
            String(q.running),
            limit(q.owner_concurrency),
            limit(q.group_concurrency),
            limit(q.owner_cpu, 'm'),
            limit(q.owner_memory, ' MB'),
          ]),
        )}\n`,
      );
    });
}
