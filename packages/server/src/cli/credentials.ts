import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, EXIT } from './client.js';

/** Where the CLI's config file is: `$XDG_CONFIG_HOME/galley/config.json` or `~/.config/galley/config.json`. */
export function cliConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
  return join(base, 'galley', 'config.json');
}

/** The CLI config file's `{url, token}` (either may be absent); a missing file is none. */
export function readCliConfig(path: string): { url?: string; token?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const out: { url?: string; token?: string } = {};
    if (typeof o['url'] === 'string') out.url = o['url'];
    if (typeof o['token'] === 'string') out.token = o['token'];
    return out;
  } catch (err) {
    throw new CliError(`${path} is not JSON: ${(err as Error).message}`, EXIT.USAGE, 'BAD_CONFIG');
  }
}

/**
 * The server URL and token the CLI uses: `--url`/`--token`, else GALLEY_URL/GALLEY_TOKEN, else the
 * config file's `url`/`token`, else the default URL and no token (a server with auth `none`).
 */
export function resolveCliTarget(
  given: { url?: string; token?: string },
  defaultUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; token: string | null } {
  const needFile =
    (given.url ?? env['GALLEY_URL']) === undefined || (given.token ?? env['GALLEY_TOKEN']) === undefined;
  const file = needFile ? readCliConfig(cliConfigPath(env)) : {};
  const url = given.url ?? env['GALLEY_URL'] ?? file.url ?? defaultUrl;
  // The file's token goes only to the file's server (or to any, when the file names none).
  const fileToken = file.url === undefined || file.url === url ? file.token : undefined;
  return { url, token: given.token ?? (env['GALLEY_TOKEN'] || undefined) ?? fileToken ?? null };
}
