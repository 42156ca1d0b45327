import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { CliError, EXIT, type GalleyClient } from '../client.js';
import { formatTable } from '../table.js';

/** The value of `galley secret set`: from a file, or stdin (one trailing newline dropped) — never argv. */
async function readValue(fromFile: string | undefined): Promise<string> {
  if (fromFile !== undefined) {
    try {
      return await readFile(fromFile, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${fromFile}: ${(err as Error).message}`, EXIT.USAGE, 'BAD_FILE');
    }
  }
  if (process.stdin.isTTY) process.stderr.write('value (end with Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** `galley secret set|list|rm`: secrets Galley stores encrypted; env values name them `secret:NAME`. */
export function secretCommand(client: () => GalleyClient): Command {
  const cmd = new Command('secret').description('secrets for env values `secret:NAME` (values never shown)');
  cmd
    .command('set <name>')
    .description(
      'create or replace a secret; the value comes from stdin or --from-file, never the command line',
    )
    .option('--from-file <file>', 'read the value from this file (as it is)')
    .action(async (name: string, opts: { fromFile?: string }) => {
      const value = await readValue(opts.fromFile);
      if (value === '')
        throw new CliError('the value is empty (give it on stdin or with --from-file)', EXIT.USAGE, 'EMPTY');
      await client().json('PUT', `/secrets/${encodeURIComponent(name)}`, { value });
      process.stdout.write(`set secret:${name}\n`);
    });
  cmd
    .command('list')
    .description('list the secrets (names and when they were set)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const page = await client().json<{ secrets: { name: string; updated_at: string }[] }>(
        'GET',
        '/secrets',
      );
      if (opts.json) return void process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      process.stdout.write(
        `${formatTable(
          ['NAME', 'UPDATED'],
          page.secrets.map((s) => [s.name, s.updated_at]),
        )}\n`,
      );
    });
  cmd
    .command('rm <name>')
    .description('delete a secret (runs that reference it fail at their next launch)')
    .action(async (name: string) => {
      await client().json('DELETE', `/secrets/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted secret:${name}\n`);
    });
  return cmd;
}
