import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { Definition, DefinitionList } from '../../api/schemas/index.js';
import { CliError, EXIT, type GalleyClient } from '../client.js';
import { formatTable } from '../table.js';

async function readDefinitionFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.USAGE, 'BAD_FILE');
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`, EXIT.USAGE, 'BAD_FILE');
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const byAlias = (client: GalleyClient, alias: string) =>
  client.json<Definition>('GET', `/task/alias/${encodeURIComponent(alias)}`);

/** `galley task create|update|list|show|delete`: definitions (flotilla "tasks"). */
export function taskCommand(client: () => GalleyClient): Command {
  const cmd = new Command('task').description('define what to run (flotilla "tasks")');
  cmd
    .command('create')
    .description('create a definition from a JSON file (flotilla definition JSON)')
    .requiredOption('-f, --file <file>', 'JSON file, or - for stdin')
    .action(async (opts: { file: string }) => {
      const d = await client().json<Definition>('POST', '/task', await readDefinitionFile(opts.file));
      process.stdout.write(`created ${d.alias} (${d.definition_id})\n`);
    });
  cmd
    .command('update <alias>')
    .description('update a definition: the non-empty fields of the file replace the stored ones')
    .requiredOption('-f, --file <file>', 'JSON file, or - for stdin')
    .action(async (alias: string, opts: { file: string }) => {
      const c = client();
      const current = await byAlias(c, alias);
      const d = await c.json<Definition>(
        'PUT',
        `/task/${current.definition_id}`,
        await readDefinitionFile(opts.file),
      );
      process.stdout.write(`updated ${d.alias} (${d.definition_id})\n`);
    });
  cmd
    .command('list')
    .description('list definitions')
    .option('--group <group>', 'only this group')
    .option('--json', 'print JSON')
    .action(async (opts: { group?: string; json?: boolean }) => {
      const q = opts.group ? `?group_name=${encodeURIComponent(opts.group)}` : '';
      const page = await client().json<DefinitionList>('GET', `/task${q}`);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      const rows = page.definitions.map((d) => [
        d.alias,
        d.group_name,
        d.image,
        String(d.memory),
        String(d.cpu),
        d.command,
      ]);
      process.stdout.write(
        `${formatTable(['ALIAS', 'GROUP', 'IMAGE', 'MEMORY_MB', 'CPU_MILLI', 'COMMAND'], rows)}\n`,
      );
    });
  cmd
    .command('show <alias>')
    .description('print a definition as JSON')
    .action(async (alias: string) => {
      process.stdout.write(`${JSON.stringify(await byAlias(client(), alias), null, 2)}\n`);
    });
  cmd
    .command('delete <alias>')
    .description('delete a definition (its runs stay in history)')
    .action(async (alias: string) => {
      const c = client();
      const d = await byAlias(c, alias);
      await c.json('DELETE', `/task/${d.definition_id}`);
      process.stdout.write(`deleted ${alias}\n`);
    });
  return cmd;
}
