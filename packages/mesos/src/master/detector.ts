/**
 * Master detection: finding the leading master of a Mesos cluster (spec §1.7, §8). Three
 * detectors implement one interface:
 * - a static list (`host1:5050,host2:5050`), probed with `GET /redirect`;
 * - ZooKeeper (`zk://[user:pass@]h1:2181,h2:2181/mesos`), followed live;
 * - a DNS name (`leader.mesos`), resolved anew on every detection.
 */
import type { MasterInfo } from '../types/index.js';

/** Where the leading master is. `url` is its base URL (`http://10.0.0.11:5050/`). */
export interface MasterLocation {
  url: URL;
  /** The leader's MasterInfo when the detector knows it (ZooKeeper does). */
  info?: MasterInfo;
}

/** A change of leadership seen by a push-based detector. */
export type LeaderChange =
  | { type: 'leader'; location: MasterLocation }
  /** No leader is known right now (no candidate, ZooKeeper session lost…). */
  | { type: 'unknown'; reason: string };

/** Finds the leading master. */
export interface MasterDetector {
  /**
   * Finds the leader now. Rejects with `MasterDetectionError` when none can be found within the
   * detector's wait time, or when `signal` aborts.
   */
  detect(signal?: AbortSignal): Promise<MasterLocation>;
  /**
   * Calls `listener` whenever a push-based detector (ZooKeeper) sees the leader change or become
   * unknown. Static and DNS detectors never call it. Returns a function that unsubscribes.
   */
  onChange(listener: (change: LeaderChange) => void): () => void;
  /** Releases connections and watches. Further `detect` calls reject. */
  close(): Promise<void>;
}

/** Codes of `MasterDetectionError`. */
export type MasterDetectionErrorCode =
  /** No master answered or no leader is known (yet): retry later. */
  | 'MESOS_NO_LEADER'
  /** The master specification is malformed (bad zk:// URL, empty list). */
  | 'MESOS_BAD_MASTER_SPEC'
  /** The leader's ZooKeeper entry cannot be read (legacy binary `info_` node). */
  | 'MESOS_UNSUPPORTED_MASTER_INFO'
  /** The detector was closed or the detection aborted. */
  | 'MESOS_DETECTION_ABORTED';

/** Detection failed. `temporary` says whether trying again later may help. */
export class MasterDetectionError extends Error {
  readonly temporary: boolean;
  constructor(
    readonly code: MasterDetectionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MasterDetectionError';
    this.temporary = code === 'MESOS_NO_LEADER' || code === 'MESOS_UNSUPPORTED_MASTER_INFO';
  }
}

/** A tiny listener registry shared by the detectors. */
export class LeaderChangeListeners {
  private readonly listeners = new Set<(change: LeaderChange) => void>();
  add(listener: (change: LeaderChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(change: LeaderChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }
  clear(): void {
    this.listeners.clear();
  }
}

/** Rejects when `signal` aborts; resolves never otherwise. Returns a cleanup function too. */
export function abortPromise(
  signal: AbortSignal | undefined,
  what: string,
): { promise: Promise<never>; dispose: () => void } {
  let dispose = () => {};
  const promise = new Promise<never>((_, reject) => {
    if (!signal) return;
    const onAbort = () =>
      reject(
        new MasterDetectionError('MESOS_DETECTION_ABORTED', `${what} aborted`, { cause: signal.reason }),
      );
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    dispose = () => signal.removeEventListener('abort', onAbort);
  });
  promise.catch(() => {});
  return { promise, dispose };
}
