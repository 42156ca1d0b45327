import { Command, InvalidArgumentError } from 'commander';
import type { AuditList, TokenCreated, TokenInfo, TokenList, WhoAmI } from '../../api/schemas/auth.js';
import type { GalleyClient } from '../client.js';
import { formatTable } from '../table.js';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of seconds ≥ 1');
  return n;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `galley token create|list|revoke`: API tokens (admin). */
export function tokenCommand(client: () => GalleyClient): Command {
  const cmd = new Command('token').description('API tokens (needs an admin token)');
  cmd
    .command('create')
    .description('create a token; it is printed once, keep it')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--subject <subject>', 'the principal it stands for (runs’ owner); default: the name')
    .option('--group <group>', 'a group of the principal (repeatable; `admin` may do everything)', collect)
    .option('--expires-in <seconds>', 'seconds until it expires (default: never)', seconds)
    .action(async (o: { name: string; subject?: string; group?: string[]; expiresIn?: number }) => {
      const created = await client().json<TokenCreated>('POST', '/auth/tokens', {
        name: o.name,
        ...(o.subject ? { subject: o.subject } : {}),
        groups: o.group ?? [],
        ...(o.expiresIn ? { expires_in_s: o.expiresIn } : {}),
      });
      process.stderr.write(
        `token ${created.token_id} for ${created.subject} (groups: ${created.groups.join(', ') || 'none'}); shown once:\n`,
      );
      process.stdout.write(`${created.token}\n`);
    });
  cmd
    .command('list')
    .description('list tokens (never the tokens themselves)')
    .action(async () => {
      const list = await client().json<TokenList>('GET', '/auth/tokens?limit=1000');
      const row = (t: TokenInfo) => [
        t.token_id,
        t.name,
        t.subject,
        t.groups.join(','),
        t.revoked_at ? `revoked ${t.revoked_at}` : t.expires_at ? `expires ${t.expires_at}` : 'active',
      ];
      process.stdout.write(
        formatTable(['ID', 'NAME', 'SUBJECT', 'GROUPS', 'STATE'], list.tokens.map(row)) + '\n',
      );
    });
  cmd
    .command('revoke <id>')
    .description('revoke a token: refused at once')
    .action(async (id: string) => {
      const t = await client().json<TokenInfo>('DELETE', `/auth/tokens/${encodeURIComponent(id)}`);
      process.stderr.write(`token ${t.token_id} (${t.name}) revoked\n`);
    });
  return cmd;
}

/** `galley whoami`: who the server takes the CLI's token for. */
export function whoamiCommand(client: () => GalleyClient): Command {
  return new Command('whoami').description('who the server takes you for').action(async () => {
    const w = await client().json<WhoAmI>('GET', '/auth/whoami');
    process.stdout.write(`${w.subject} (auth ${w.mode}; groups: ${w.groups.join(', ') || 'none'})\n`);
  });
}

/** `galley audit`: the audit log (admin). */
export function auditCommand(client: () => GalleyClient): Command {
  return new Command('audit')
    .description('the audit log of mutations, newest first (needs an admin token)')
    .option('--subject <subject>', 'only this principal')
    .option('--limit <n>', 'at most this many entries (≤ 1000)', '50')
    .action(async (o: { subject?: string; limit: string }) => {
      const q = new URLSearchParams({ limit: o.limit });
      if (o.subject) q.set('subject', o.subject);
      const list = await client().json<AuditList>('GET', `/audit?${q.toString()}`);
      const rows = list.entries.map((e) => [
        e.at,
        e.subject ?? '-',
        e.method,
        e.path,
        String(e.status),
        e.ip,
      ]);
      process.stdout.write(formatTable(['AT', 'WHO', 'METHOD', 'PATH', 'STATUS', 'FROM'], rows) + '\n');
    });
}
