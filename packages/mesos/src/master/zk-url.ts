/** Parsing `zk://[user:password@]host1:2181,host2:2181/path` (spec §8). */
import { MasterDetectionError } from './detector.js';

/** The parts of a zk:// URL. */
export interface ZooKeeperUrl {
  /** `host:port,host:port` for the ZooKeeper client. */
  servers: string;
  /** `user:password` for ZooKeeper `digest` auth, when given. */
  digest?: string;
  /** The znode under which masters register (default `/`; trailing `/` stripped). */
  path: string;
}

/** Parses a zk:// URL; throws MasterDetectionError MESOS_BAD_MASTER_SPEC when it is not one. */
export function parseZooKeeperUrl(url: string): ZooKeeperUrl {
  const match = /^zk:\/\/(?:([^@/]+)@)?([^/]+)(\/.*)?$/.exec(url.trim());
  if (!match)
    throw new MasterDetectionError(
      'MESOS_BAD_MASTER_SPEC',
      'expected zk://[user:password@]host:port[,host:port…]/path',
    );
  const [, digest, servers = '', rawPath] = match;
  if (servers.split(',').some((s) => s.trim() === '')) {
    throw new MasterDetectionError('MESOS_BAD_MASTER_SPEC', 'empty ZooKeeper server in the zk:// URL');
  }
  let path = rawPath ?? '/';
  while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return { servers, path, ...(digest ? { digest: decodeURIComponent(digest) } : {}) };
}

/**
 * Splits a child znode name `<label>_<sequence>` (e.g. `json.info_0000000024`). Returns
 * undefined when the last `_`-separated token is not an integer (e.g. `log_replicas`).
 */
export function parseMasterNode(name: string): { label: string; sequence: number } | undefined {
  const tokens = name.split('_');
  const last = tokens[tokens.length - 1] ?? '';
  if (tokens.length < 2 || !/^\d+$/.test(last)) return undefined;
  return { label: tokens[0] ?? '', sequence: Number(last) };
}
