/** Master addresses and `Location` headers. */

/** Default port of a Mesos master. */
export const DEFAULT_MASTER_PORT = 5050;

/**
 * Parses a master address given as `host`, `host:port`, `[v6]:port` or a full `http(s)://` URL
 * into the base URL of that master (path `/`). `defaultScheme` applies when none is given.
 * Throws TypeError for an empty or unparsable address.
 */
export function parseMasterAddress(address: string, defaultScheme: 'http' | 'https' = 'http'): URL {
  const trimmed = address.trim();
  if (trimmed === '') throw new TypeError('empty master address');
  const withScheme = /^https?:\/\//i.test(trimmed) ? trimmed : `${defaultScheme}://${trimmed}`;
  const url = new URL(withScheme);
  if (url.port === '') url.port = String(DEFAULT_MASTER_PORT);
  url.pathname = '/';
  url.search = '';
  url.hash = '';
  url.username = '';
  url.password = '';
  return url;
}

/**
 * Resolves a `Location` header against the URL that produced it. Mesos sends protocol-relative
 * locations (`//leader:5050/api/v1/scheduler`, spec §1.7, §9.8), which keep the current scheme.
 * Returns the base URL of the master it points to (path `/`).
 */
export function resolveLeaderLocation(location: string, current: URL): URL {
  const url = new URL(location, current);
  url.pathname = '/';
  url.search = '';
  url.hash = '';
  return url;
}

/** The master's base URL as `host:port` for messages and events (never with credentials). */
export function describeMaster(url: URL): string {
  return `${url.protocol}//${url.host}`;
}
