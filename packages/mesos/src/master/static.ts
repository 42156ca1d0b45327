/**
 * Detection from a fixed list of masters: each detection asks the masters in turn (the last
 * known leader first) with `GET /redirect`. A master that answers but names no leader is
 * returned as is; the SUBSCRIBE that follows will be redirected (307) if it does not lead.
 */
import type { TlsOptions } from '../http/client.js';
import { describeMaster, parseMasterAddress } from '../http/location.js';
import {
  type MasterDetector,
  type MasterLocation,
  LeaderChangeListeners,
  MasterDetectionError,
} from './detector.js';
import { probeLeader } from './probe.js';

/** Options of `createStaticDetector`. */
export interface StaticDetectorOptions {
  /** Scheme for addresses given without one. Default `http`. */
  scheme?: 'http' | 'https';
  tls?: TlsOptions;
  /** Time allowed for each master's answer, ms. Default 5000. */
  probeTimeoutMs?: number;
}

/** A detector over `masters` (`host:port` or URLs). Throws MESOS_BAD_MASTER_SPEC when empty. */
export function createStaticDetector(
  masters: readonly string[],
  options: StaticDetectorOptions = {},
): MasterDetector {
  const urls = masters
    .map((m) => m.trim())
    .filter((m) => m !== '')
    .map((m) => parseMasterAddress(m, options.scheme));
  if (urls.length === 0) throw new MasterDetectionError('MESOS_BAD_MASTER_SPEC', 'no master address given');
  return new ProbingDetector(async () => urls, options);
}

/** Probes a list of candidates (given anew on each detection) for the leader. */
export class ProbingDetector implements MasterDetector {
  private lastLeader: string | undefined;
  private closed = false;
  private readonly listeners = new LeaderChangeListeners();
  private readonly inflight = new Set<AbortController>();

  constructor(
    private readonly candidates: (signal: AbortSignal) => Promise<URL[]>,
    private readonly options: StaticDetectorOptions,
  ) {}

  async detect(signal?: AbortSignal): Promise<MasterLocation> {
    if (this.closed) throw new MasterDetectionError('MESOS_DETECTION_ABORTED', 'detector closed');
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.inflight.add(controller);
    try {
      const urls = this.ordered(await this.candidates(controller.signal));
      const failures: string[] = [];
      for (const url of urls) {
        if (controller.signal.aborted) break;
        const result = await probeLeader(url, {
          tls: this.options.tls,
          timeoutMs: this.options.probeTimeoutMs,
          signal: controller.signal,
        });
        if (result.kind === 'leader' || result.kind === 'reachable') {
          this.lastLeader = result.url.href;
          return { url: result.url };
        }
        failures.push(
          `${describeMaster(url)}: ${result.kind === 'no-leader' ? 'no leader elected' : result.error.message}`,
        );
      }
      if (controller.signal.aborted)
        throw new MasterDetectionError('MESOS_DETECTION_ABORTED', 'detection aborted');
      throw new MasterDetectionError('MESOS_NO_LEADER', `no leading master found (${failures.join('; ')})`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.inflight.delete(controller);
    }
  }

  onChange(listener: Parameters<MasterDetector['onChange']>[0]): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.inflight) controller.abort();
    this.listeners.clear();
  }

  private ordered(urls: URL[]): URL[] {
    const index = urls.findIndex((u) => u.href === this.lastLeader);
    return index <= 0 ? urls : [...urls.slice(index), ...urls.slice(0, index)];
  }
}
