import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { PipelineJson, PipelineMap } from '../../api/schemas/index.js';
import { CliError, EXIT, type GalleyClient } from '../client.js';
import { formatTable } from '../table.js';
import { addAutoscalingCommand } from './pipeline-autoscaling.js';

async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.USAGE, 'BAD_FILE');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`, EXIT.USAGE, 'BAD_FILE');
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

const path = (id: string) => `/pipelines/${encodeURIComponent(id)}`;

/** Writes output to stdout with `prefix` before each line (none: as it comes); a line cut between chunks is completed first. */
class LinePrefixer {
  private readonly decoder = new TextDecoder();
  private partial = '';
  constructor(private readonly prefix: string) {}

  write(chunk: Uint8Array): void {
    if (!this.prefix) return void process.stdout.write(chunk);
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const cut = text.lastIndexOf('\n') + 1;
    this.partial = text.slice(cut);
    if (cut > 0)
      process.stdout.write(
        text
          .slice(0, cut - 1)
          .split('\n')
          .map((line) => `${this.prefix}${line}\n`)
          .join(''),
      );
  }

  /** The last line, when it had no newline. */
  end(): void {
    if (this.prefix && this.partial) process.stdout.write(`${this.prefix}${this.partial}\n`);
    this.partial = '';
  }
}

/** One line per pipeline: instances ready of wanted, version, rollout. */
function summary(p: PipelineJson): string[] {
  const ready = p.tasks.filter((t) => t.ok).length;
  const update =
    p.update && (p.update.phase === 'rolling' || p.update.phase === 'rolling-back') ? p.update : null;
  return [
    p.id,
    `${ready}/${p.instances}`,
    String(p.version),
    p.status,
    update ? `${update.phase} v${update.from_version}→v${update.to_version}` : (p.update?.phase ?? ''),
  ];
}

/** `galley pipeline create|list|show|scale|update|delete`: Faustian's pipelines. */
export function pipelineCommand(client: () => GalleyClient): Command {
  const cmd = new Command('pipeline').description('long-running worker pipelines (Faustian JSON)');
  cmd
    .command('create')
    .description('create a pipeline from a JSON file (Faustian pipeline JSON)')
    .requiredOption('-f, --file <file>', 'JSON file, or - for stdin')
    .action(async (opts: { file: string }) => {
      const body = (await readJsonFile(opts.file)) as { id?: unknown };
      await client().raw('POST', '/pipelines', body);
      process.stdout.write(`created ${String(body.id)}\n`);
    });
  cmd
    .command('list')
    .description('list pipelines: instances ready of wanted, spec version, rollout')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const all = await client().json<PipelineMap>('GET', '/pipelines');
      if (opts.json) return void process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
      const rows = Object.values(all).map(summary);
      process.stdout.write(`${formatTable(['ID', 'READY', 'VERSION', 'STATUS', 'UPDATE'], rows)}\n`);
    });
  cmd
    .command('show <id>')
    .description('print a pipeline with its instances (--json: the whole answer)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const p = await client().json<PipelineJson>('GET', path(id));
      if (opts.json) return void process.stdout.write(`${JSON.stringify(p, null, 2)}\n`);
      const head = formatTable(['ID', 'READY', 'VERSION', 'STATUS', 'UPDATE'], [summary(p)]);
      const rows = p.tasks.map((t) => [
        t.id,
        t.status,
        String(t.version),
        String(t.failures),
        Object.entries(t.processes)
          .map(([name, pr]) => `${name}:${pr.status.replace(/^TASK_/, '').toLowerCase()}`)
          .join(' '),
        t.message,
      ]);
      const table = formatTable(['INSTANCE', 'STATUS', 'VERSION', 'RESTARTS', 'PROCESSES', 'MESSAGE'], rows);
      const reason = p.update?.reason ? `\nupdate: ${p.update.reason}` : '';
      const why = (p as { status_reason?: string | null }).status_reason;
      const status = why ? `\n${p.status}: ${why}` : '';
      process.stdout.write(`${head}\n\n${table}${status}${reason}\n`);
    });
  cmd
    .command('scale <id> <instances>')
    .description('add or remove instances (the youngest go first); nothing else restarts')
    .action(async (id: string, instances: string) => {
      const n = count(instances);
      await client().raw('PATCH', path(id), { instances: n });
      process.stdout.write(`scaling ${id} to ${n} instance${n === 1 ? '' : 's'}\n`);
    });
  cmd
    .command('update <id>')
    .description('change a pipeline: the file’s top-level fields replace the stored ones (a rolling update)')
    .requiredOption('-f, --file <file>', 'JSON file, or - for stdin')
    .action(async (id: string, opts: { file: string }) => {
      await client().raw('PATCH', path(id), await readJsonFile(opts.file));
      process.stdout.write(`updating ${id}\n`);
    });
  cmd
    .command('logs <id> [instance] [process]')
    .description(
      "print a pipeline process's output (stdout, then stderr) from its instance's current launch on; " +
        'INSTANCE is `<id>.<n>` or `<n>`; without INSTANCE or PROCESS, every instance’s or process’s, ' +
        'each line prefixed with `[instance process]`',
    )
    .option(
      '-f, --follow',
      'keep printing new output (a restart goes on in the next launch) until the instances stop',
    )
    .option('--stream <stream>', 'only stdout or only stderr', (v: string) => {
      if (v !== 'stdout' && v !== 'stderr') throw new InvalidArgumentError('must be stdout or stderr');
      return v;
    })
    .action(
      async (
        id: string,
        instance: string | undefined,
        name: string | undefined,
        opts: { follow?: boolean; stream?: string },
      ) => {
        const c = client();
        const p = await c.json<PipelineJson>('GET', path(id));
        const instances = instance
          ? [/^\d+$/.test(instance) ? `${id}.${instance}` : instance]
          : p.tasks.map((t) => t.id);
        const names = name ? [name] : Object.keys(p.processes);
        if (instances.length === 0)
          throw new CliError(`pipeline ${id} has no instances`, EXIT.API, 'NO_INSTANCES');
        const pairs = instances.flatMap((i) => names.map((n) => ({ instance: i, name: n })));
        const query = opts.stream ? `&stream=${opts.stream}` : '';
        const one = async ({ instance: i, name: n }: { instance: string; name: string }) => {
          const logs = `${path(id)}/instances/${encodeURIComponent(i)}/processes/${encodeURIComponent(n)}/logs`;
          const out = new LinePrefixer(pairs.length > 1 ? `[${i} ${n}] ` : '');
          if (opts.follow) {
            const res = await c.raw('GET', `${logs}?follow=true${query}`);
            if (res.body) for await (const chunk of res.body) out.write(chunk as Uint8Array);
          } else {
            let token = '';
            for (;;) {
              const page = await c.json<{ log: string; last_seen: string }>(
                'GET',
                `${logs}?max_bytes=1048576${query}${token ? `&last_seen=${token}` : ''}`,
              );
              if (page.log === '') break;
              out.write(Buffer.from(page.log));
              token = page.last_seen;
            }
          }
          out.end();
        };
        // Followed streams run side by side; pages are printed one stream after the other.
        if (opts.follow) await Promise.all(pairs.map(one));
        else for (const pair of pairs) await one(pair);
      },
    );
  cmd
    .command('delete <id>')
    .description('delete a pipeline: every process is stopped within its grace period')
    .action(async (id: string) => {
      await client().raw('DELETE', path(id));
      process.stdout.write(`deleting ${id}\n`);
    });
  addAutoscalingCommand(cmd, client);
  return cmd;
}
