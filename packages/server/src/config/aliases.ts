import type { FlatConfig } from './options.js';

/**
 * Flotilla's and Faustian's configuration names that Galley understands. Each maps one of their
 * env vars or `galley serve` flags onto a Galley setting, converting the value to Galley's form
 * (`:3000` → `0.0.0.0:3000`, seconds → ms). Galley's own names (flag, env var or config-file key)
 * always win; an alias in use, or one ignored because a Galley name was given, is reported so the
 * server can log it with the Galley name to use.
 */
export interface ConfigAlias {
  /** The Galley setting it stands for. */
  key: keyof FlatConfig;
  /** Whose name it is. */
  from: 'Flotilla' | 'Faustian';
  /** Their env var, if it is taken. */
  env?: string;
  /** Their flag (a `galley serve` flag), if it is taken. */
  flag?: string;
  /** Their value in Galley's form. */
  convert?: (raw: string) => string;
  /** Also selects another setting when no Galley name gives it (Faustian's MESOS_MASTER: the Mesos backend). */
  implies?: { key: keyof FlatConfig; value: string };
  /** How the value is read, for the README. */
  note?: string;
}

/** Go's `:port` (every interface) in Galley's `host:port` form; `host:port` as it is. */
export function goListenAddress(raw: string): string {
  const value = raw.trim();
  return value.startsWith(':') ? `0.0.0.0${value}` : value;
}

/** A count of seconds as ms (anything else is kept, for the setting's check to name). */
function secondsToMs(raw: string): string {
  const s = Number(raw.trim());
  return raw.trim() !== '' && Number.isFinite(s) ? String(Math.round(s * 1000)) : raw;
}

/** The aliases, in the order the README lists them. */
export const CONFIG_ALIASES: readonly ConfigAlias[] = [
  {
    key: 'listen',
    from: 'Faustian',
    env: 'LISTEN_ADDR',
    flag: '--listen-addr',
    convert: goListenAddress,
    note: 'Go form: `:1424` = every interface (`0.0.0.0:1424`)',
  },
  {
    key: 'listen',
    from: 'Flotilla',
    env: 'HTTP_SERVER_LISTEN_ADDRESS',
    convert: goListenAddress,
    note: '`http.server.listen_address` as an env var (viper, `.` → `_`); `:3000` = `0.0.0.0:3000`',
  },
  {
    key: 'httpRequestTimeoutMs',
    from: 'Flotilla',
    env: 'HTTP_SERVER_READ_TIMEOUT_SECONDS',
    convert: secondsToMs,
    note: '`http.server.read_timeout_seconds` as an env var; seconds',
  },
  {
    key: 'databaseUrl',
    from: 'Flotilla',
    env: 'DATABASE_URL',
    note: 'the same name: Galley reads `DATABASE_URL` itself',
  },
  {
    key: 'serverMode',
    from: 'Flotilla',
    env: 'FLOTILLA_MODE',
    note: 'given to runs as `FLOTILLA_SERVER_MODE`, as in Flotilla',
  },
  {
    key: 'mesosMaster',
    from: 'Faustian',
    env: 'MESOS_MASTER',
    implies: { key: 'backend', value: 'mesos' },
    note: 'Faustian always ran on Mesos: with no `--backend`, it also selects `--backend mesos`',
  },
  { key: 'mesosUser', from: 'Faustian', env: 'MESOS_USER' },
  {
    key: 'advertiseUrl',
    from: 'Faustian',
    flag: '--hostname',
    note: 'a host name: advertised as `http://HOSTNAME:<listen port>` (its env var `HOSTNAME` is not taken: shells and containers set it)',
  },
  { key: 'mesosRoles', from: 'Faustian', env: 'ROLES', flag: '--roles', note: 'comma-separated' },
];

/** One alias that was given: used, or ignored because Galley's own name was given too. */
export interface AliasUse {
  /** `LISTEN_ADDR` or `--listen-addr`. */
  name: string;
  from: ConfigAlias['from'];
  key: keyof FlatConfig;
  /** Galley's flag and env var for it. */
  galley: string;
  used: boolean;
}

/** Where alias values come from: their flags (by flag, e.g. `--listen-addr`) and the environment. */
export interface AliasSources {
  aliasFlags?: Partial<Record<string, string>> | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * The settings the aliases give (Galley's form) for the keys `given` (those a Galley name gives)
 * does not hold, flags before env vars, and every alias that was given, used or not. The same alias
 * key given by two aliases: the first in CONFIG_ALIASES wins.
 */
export function resolveAliases(
  sources: AliasSources,
  given: (key: keyof FlatConfig) => boolean,
  galleyName: (key: keyof FlatConfig) => string,
): { values: Partial<Record<keyof FlatConfig, { raw: string; name: string }>>; uses: AliasUse[] } {
  const values: Partial<Record<keyof FlatConfig, { raw: string; name: string }>> = {};
  const uses: AliasUse[] = [];
  const candidates: { alias: ConfigAlias; name: string; raw: string }[] = [];
  for (const alias of CONFIG_ALIASES) {
    const fromFlag = alias.flag ? sources.aliasFlags?.[alias.flag] : undefined;
    if (alias.flag && fromFlag !== undefined) candidates.push({ alias, name: alias.flag, raw: fromFlag });
  }
  for (const alias of CONFIG_ALIASES) {
    // DATABASE_URL is Galley's own env var too: nothing to alias.
    if (!alias.env || alias.key === 'databaseUrl') continue;
    const fromEnv = sources.env?.[alias.env];
    if (fromEnv !== undefined && fromEnv !== '') candidates.push({ alias, name: alias.env, raw: fromEnv });
  }
  for (const { alias, name, raw } of candidates) {
    const used = !given(alias.key) && values[alias.key] === undefined;
    uses.push({ name, from: alias.from, key: alias.key, galley: galleyName(alias.key), used });
    if (!used) continue;
    values[alias.key] = { raw: alias.convert ? alias.convert(raw) : raw, name };
    if (alias.implies && !given(alias.implies.key) && values[alias.implies.key] === undefined)
      values[alias.implies.key] = { raw: alias.implies.value, name };
  }
  return { values, uses };
}

/** One line for the start-up log about an alias given. */
export function describeAliasUse(use: AliasUse): string {
  return use.used
    ? `${use.from}'s ${use.name} is taken as ${use.galley}; use ${use.galley} instead`
    : `${use.from}'s ${use.name} is ignored: ${use.galley} is given too and wins`;
}
