/**
 * Detection through ZooKeeper, as Mesos masters register themselves (spec §8): every master owns
 * an ephemeral sequential child `json.info_<seq>` of the path, holding its MasterInfo as JSON.
 * The leader is the child with the LOWEST sequence number among all numeric children. The
 * detector watches the children and re-reads on every change, and reports the leader as unknown
 * while the ZooKeeper session is disconnected or expired.
 */
import zookeeper, { type Client } from 'node-zookeeper-client';
import { decodeJson } from '../json/index.js';
import type { MasterInfo } from '../types/index.js';
import {
  type LeaderChange,
  type MasterDetector,
  type MasterLocation,
  LeaderChangeListeners,
  MasterDetectionError,
  abortPromise,
} from './detector.js';
import { masterInfoUrl } from './master-info.js';
import { parseMasterNode, parseZooKeeperUrl } from './zk-url.js';

/** Options of `createZooKeeperDetector`. */
export interface ZooKeeperDetectorOptions {
  /** Scheme of the masters' URLs. Default `http`. */
  scheme?: 'http' | 'https';
  /** ZooKeeper session timeout, ms. Default 10 000 (what Mesos uses). */
  sessionTimeoutMs?: number;
  /** How long `detect()` waits for a leader to be known, ms. Default 10 000. */
  waitMs?: number;
}

/** A detector following the leader registered under a zk:// URL. Connects at once. */
export function createZooKeeperDetector(url: string, options: ZooKeeperDetectorOptions = {}): MasterDetector {
  return new ZooKeeperDetector(url, options);
}

interface Leader extends MasterLocation {
  node: string;
}

class ZooKeeperDetector implements MasterDetector {
  private readonly servers: string;
  private readonly digest: string | undefined;
  private readonly path: string;
  private client: Client | undefined;
  private leader: Leader | undefined;
  private unknownReason = 'not connected to ZooKeeper yet';
  private generation = 0;
  private closed = false;
  private readonly listeners = new LeaderChangeListeners();
  /** Detections waiting for a leader. */
  private readonly waiting = new Set<() => void>();

  constructor(
    url: string,
    private readonly options: ZooKeeperDetectorOptions,
  ) {
    const parsed = parseZooKeeperUrl(url);
    this.servers = parsed.servers;
    this.digest = parsed.digest;
    this.path = parsed.path;
    this.connect();
  }

  async detect(signal?: AbortSignal): Promise<MasterLocation> {
    const deadline = Date.now() + (this.options.waitMs ?? 10_000);
    const aborted = abortPromise(signal, 'ZooKeeper detection');
    try {
      for (;;) {
        if (this.closed) throw new MasterDetectionError('MESOS_DETECTION_ABORTED', 'detector closed');
        if (this.leader)
          return { url: this.leader.url, ...(this.leader.info ? { info: this.leader.info } : {}) };
        const left = deadline - Date.now();
        if (left <= 0) {
          const code = this.unknownReason.startsWith('unsupported')
            ? 'MESOS_UNSUPPORTED_MASTER_INFO'
            : 'MESOS_NO_LEADER';
          throw new MasterDetectionError(
            code,
            `no leading master in ZooKeeper ${this.servers}${this.path}: ${this.unknownReason}`,
          );
        }
        await Promise.race([this.nextChange(left), aborted.promise]);
      }
    } finally {
      aborted.dispose();
    }
  }

  onChange(listener: (change: LeaderChange) => void): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    this.client?.close();
    this.client = undefined;
    this.listeners.clear();
    for (const wake of [...this.waiting]) wake();
  }

  private nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiting.add(wake);
    });
  }

  private connect(): void {
    if (this.closed) return;
    const client = zookeeper.createClient(this.servers, {
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      spinDelay: 500,
      retries: 1,
    });
    this.client = client;
    if (this.digest) client.addAuthInfo('digest', Buffer.from(this.digest));
    client.on('state', (state: { getName(): string }) => {
      if (this.client !== client) return;
      switch (state.getName()) {
        case 'SYNC_CONNECTED':
        case 'CONNECTED_READ_ONLY':
          this.refresh();
          break;
        case 'DISCONNECTED':
          this.setUnknown('ZooKeeper connection lost');
          break;
        case 'AUTH_FAILED':
          this.setUnknown('ZooKeeper authentication failed');
          break;
        case 'EXPIRED':
          this.setUnknown('ZooKeeper session expired');
          client.close();
          this.connect();
          break;
      }
    });
    client.connect();
  }

  /** Lists the children (re-arming the watch) and re-evaluates the leader. */
  private refresh(): void {
    const client = this.client;
    if (!client || this.closed) return;
    const generation = ++this.generation;
    const current = () => generation === this.generation && this.client === client;
    client.getChildren(
      this.path,
      () => this.refresh(),
      (error, children) => {
        if (!current()) return;
        if (error) {
          if ((error as { getCode?: () => number }).getCode?.() === zookeeper.Exception.NO_NODE) {
            this.setUnknown(`${this.path} does not exist`);
            client.exists(
              this.path,
              () => this.refresh(),
              () => {},
            );
          } else {
            this.setUnknown(`listing ${this.path} failed: ${error.message}`);
          }
          return;
        }
        this.evaluate(client, children, current);
      },
    );
  }

  private evaluate(client: Client, children: string[], current: () => boolean): void {
    let best: { name: string; label: string; sequence: number } | undefined;
    for (const name of children) {
      const parsed = parseMasterNode(name);
      if (parsed && (!best || parsed.sequence < best.sequence)) best = { name, ...parsed };
    }
    if (!best) return this.setUnknown('no master registered');
    if (this.leader?.node === best.name) return;
    const candidate = best;
    if (candidate.label !== 'json.info') {
      return this.setUnknown(`unsupported master entry ${candidate.name} (only json.info_ is read)`);
    }
    client.getData(`${this.path === '/' ? '' : this.path}/${candidate.name}`, (error, data) => {
      if (!current()) return;
      // A vanished node means another change is on its way through the children watch.
      if (error || !data) return this.setUnknown(`leader entry ${candidate.name} vanished`);
      let info: MasterInfo;
      try {
        info = decodeJson(data.toString('utf8')) as MasterInfo;
      } catch {
        return this.setUnknown(`leader entry ${candidate.name} is not JSON`);
      }
      const url = masterInfoUrl(info, this.options.scheme);
      if (!url) return this.setUnknown(`leader entry ${candidate.name} has no address`);
      this.setLeader({ node: candidate.name, url, info });
    });
  }

  private setLeader(leader: Leader): void {
    const changed = this.leader?.node !== leader.node || this.leader.url.href !== leader.url.href;
    this.leader = leader;
    if (!changed) return;
    for (const wake of [...this.waiting]) wake();
    this.listeners.emit({ type: 'leader', location: { url: leader.url, info: leader.info as MasterInfo } });
  }

  private setUnknown(reason: string): void {
    this.unknownReason = reason;
    if (!this.leader) return;
    this.leader = undefined;
    this.listeners.emit({ type: 'unknown', reason });
  }
}
