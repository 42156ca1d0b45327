/** Turning a `MasterInfo` (from ZooKeeper or SUBSCRIBED) into the master's URL (spec §8). */
import type { MasterInfo } from '../types/index.js';
import { DEFAULT_MASTER_PORT } from '../http/location.js';

/**
 * Decodes the deprecated `MasterInfo.ip`: the IPv4 address in network order read as a
 * little-endian integer, so the first octet is `ip & 0xff` (184549386 → 10.0.0.11).
 */
export function decodePackedIPv4(ip: number): string {
  return [ip & 0xff, (ip >>> 8) & 0xff, (ip >>> 16) & 0xff, (ip >>> 24) & 0xff].join('.');
}

/**
 * The base URL of the master described by `info`: host from `address.ip`, else
 * `address.hostname`, else `hostname`, else the decoded `ip`; port from `address.port`, else
 * `port`, else 5050. Returns undefined when no host can be found.
 */
export function masterInfoUrl(info: MasterInfo, scheme: 'http' | 'https' = 'http'): URL | undefined {
  const address = info.address;
  const host =
    address?.ip ||
    address?.hostname ||
    info.hostname ||
    (typeof info.ip === 'number' && info.ip !== 0 ? decodePackedIPv4(info.ip) : undefined);
  if (!host) return undefined;
  const port = address?.port ?? info.port ?? DEFAULT_MASTER_PORT;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return new URL(`${scheme}://${bracketed}:${port}/`);
}
