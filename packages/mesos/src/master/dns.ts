/**
 * Detection from a DNS name such as `leader.mesos` (Mesos-DNS): the name is resolved anew on
 * every detection, so a changed record is followed at the next (re)connect. When it resolves to
 * several addresses they are probed like a static list.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { DEFAULT_MASTER_PORT } from '../http/location.js';
import type { MasterDetector } from './detector.js';
import { MasterDetectionError } from './detector.js';
import { ProbingDetector, type StaticDetectorOptions } from './static.js';

/** Resolves a host name to addresses (injectable for tests; default `dns.lookup`, all results). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** Options of `createDnsDetector`. */
export interface DnsDetectorOptions extends StaticDetectorOptions {
  /** Port of the masters. Default 5050. */
  port?: number;
  lookup?: HostLookup;
}

/** A detector that resolves `hostname` on every detection. */
export function createDnsDetector(hostname: string, options: DnsDetectorOptions = {}): MasterDetector {
  const name = hostname.trim();
  if (name === '') throw new MasterDetectionError('MESOS_BAD_MASTER_SPEC', 'empty DNS name');
  const lookup = options.lookup ?? ((host: string) => dnsLookup(host, { all: true }));
  const scheme = options.scheme ?? 'http';
  const port = options.port ?? DEFAULT_MASTER_PORT;
  return new ProbingDetector(async () => {
    let addresses: { address: string; family: number }[];
    try {
      addresses = await lookup(name);
    } catch (cause) {
      throw new MasterDetectionError('MESOS_NO_LEADER', `cannot resolve ${name}`, { cause });
    }
    if (addresses.length === 0) throw new MasterDetectionError('MESOS_NO_LEADER', `${name} has no address`);
    return addresses.map(
      ({ address, family }) => new URL(`${scheme}://${family === 6 ? `[${address}]` : address}:${port}/`),
    );
  }, options);
}
