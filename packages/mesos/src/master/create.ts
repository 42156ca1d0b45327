/** Picking a detector from one master specification string. */
import type { TlsOptions } from '../http/client.js';
import { createDnsDetector } from './dns.js';
import type { MasterDetector } from './detector.js';
import { MasterDetectionError } from './detector.js';
import { createStaticDetector } from './static.js';
import { createZooKeeperDetector } from './zookeeper.js';

/** Options shared by all detectors `createMasterDetector` can build. */
export interface MasterDetectorOptions {
  scheme?: 'http' | 'https';
  tls?: TlsOptions;
  /** ZooKeeper session timeout, ms (default 10 000). */
  zooKeeperSessionTimeoutMs?: number;
  /** How long a ZooKeeper detection waits for a leader, ms (default 10 000). */
  waitMs?: number;
  /** Time allowed for each master's /redirect answer, ms (default 5000). */
  probeTimeoutMs?: number;
}

/**
 * Builds the detector for `master`:
 * - `zk://…` → ZooKeeper;
 * - several addresses separated by commas (or an array) → static list;
 * - one `host[:port]` or URL → DNS detector (the name is resolved on every detection, which
 *   also covers a single fixed master).
 */
export function createMasterDetector(
  master: string | readonly string[],
  options: MasterDetectorOptions = {},
): MasterDetector {
  const common = { scheme: options.scheme, tls: options.tls, probeTimeoutMs: options.probeTimeoutMs };
  if (typeof master !== 'string') return createStaticDetector(master, common);
  const spec = master.trim();
  if (spec === '') throw new MasterDetectionError('MESOS_BAD_MASTER_SPEC', 'empty master specification');
  if (spec.startsWith('zk://')) {
    return createZooKeeperDetector(spec, {
      scheme: options.scheme,
      sessionTimeoutMs: options.zooKeeperSessionTimeoutMs,
      waitMs: options.waitMs,
    });
  }
  if (spec.includes(',')) return createStaticDetector(spec.split(','), common);
  const url = new URL(/^https?:\/\//i.test(spec) ? spec : `${options.scheme ?? 'http'}://${spec}`);
  return createDnsDetector(url.hostname.replace(/^\[|\]$/g, ''), {
    ...common,
    scheme: url.protocol === 'https:' ? 'https' : 'http',
    port: url.port === '' ? undefined : Number(url.port),
  });
}
