import type { Node } from '@galley/core';
import type {
  AttemptRef,
  Backend,
  BackendEvent,
  ClusterInfo,
  KillAnswer,
  LaunchBatch,
  LogChunk,
  LogStream,
  PlacementRound,
  PlacementTraits,
  ReconcileAnswer,
  ReconcileItem,
  WaitingWork,
} from './backend.js';
import type { GroupRunner } from './group-runner.js';

/**
 * A backend that wraps another and forwards every part of the Backend contract to it, for the
 * wrappers that change only a few (secrets resolved at launch, one backend per leadership term).
 * A wrapper extends this and overrides just what it changes, so a method added to the contract is
 * forwarded by every wrapper at once — before this class, each wrapper forwarded by hand, and one
 * that forgot `executorLogs` answered `?stream=executor` with nothing.
 *
 * Calls go to `inner` as it is at the time of the call: a wrapper may put another backend in its
 * place (TermBackend does at each term). Traits (cluster, kind, placement, roles) are the first
 * inner backend's; every backend a wrapper puts in its place must have the same.
 */
export abstract class DelegatingBackend implements Backend {
  readonly cluster: string;
  readonly kind: string;
  readonly placement: PlacementTraits;
  readonly defaultRole?: string | undefined;
  readonly roles?: readonly string[];
  /** Pipelines: the inner backend's runner, reached through `groupsView` (a wrapper may intercept calls). */
  groups?: GroupRunner;
  readonly waiting?: (work: WaitingWork) => void;
  readonly executorLogs?: Backend['executorLogs'];

  constructor(protected inner: Backend) {
    this.cluster = inner.cluster;
    this.kind = inner.kind;
    this.placement = inner.placement;
    if (inner.defaultRole !== undefined) this.defaultRole = inner.defaultRole;
    if (inner.roles !== undefined) this.roles = inner.roles;
    // Optional parts exist on the wrapper only where the backend has them (callers test for them).
    if (inner.waiting) this.waiting = (work) => this.inner.waiting?.(work);
    if (inner.executorLogs)
      this.executorLogs = (attempt, stream, offset, maxBytes) =>
        this.inner.executorLogs!(attempt, stream, offset, maxBytes);
    if (inner.groups) this.groups = this.groupsView();
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  capacity(): Node[] {
    return this.inner.capacity();
  }

  openRound(): PlacementRound {
    return this.inner.openRound();
  }

  launch(batch: LaunchBatch): Promise<void> {
    return this.inner.launch(batch);
  }

  onCapacity(listener: () => void): void {
    this.inner.onCapacity(listener);
  }

  kill(attemptId: string, graceMs: number): Promise<KillAnswer> {
    return this.inner.kill(attemptId, graceMs);
  }

  reconcile(items: readonly ReconcileItem[]): Promise<ReconcileAnswer[]> {
    return this.inner.reconcile(items);
  }

  logs(attempt: AttemptRef, stream: LogStream, offset: number, maxBytes: number): Promise<LogChunk> {
    return this.inner.logs(attempt, stream, offset, maxBytes);
  }

  onEvents(listener: (events: BackendEvent[]) => void | Promise<void>): void {
    this.inner.onEvents(listener);
  }

  describe(): ClusterInfo {
    return this.inner.describe();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * The pipeline runner of the current inner backend: every call goes to it, except those named
   * in `overrides` (a wrapper's own `onEvents` listener, a `kill` it must see first).
   */
  protected groupsView(overrides: Partial<GroupRunner> = {}): GroupRunner {
    const current = () => this.inner.groups!;
    return new Proxy({} as GroupRunner, {
      get(_, name) {
        if (Object.hasOwn(overrides, name)) return Reflect.get(overrides, name);
        const groups = current();
        const value: unknown = Reflect.get(groups, name);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(groups) : value;
      },
    });
  }
}
