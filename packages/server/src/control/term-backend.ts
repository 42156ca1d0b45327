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
} from '../backends/backend.js';
import type { GroupEvent, GroupRunner } from '../backends/group-runner.js';

/**
 * A backend for one leadership term at a time. Only the leader runs backends (subscribes to
 * Mesos, launches, watches processes): when this replica stops leading, `close()` closes the
 * backend of the term — its attempts keep running — and puts a fresh, unstarted one in its
 * place, which the next term is handed its work and started. Listeners are registered once, here,
 * and only hear the backend of the current term; a closed one's late events are dropped, never
 * confirmed (a Mesos update is then not acknowledged: the next leader hears it again).
 *
 * Between terms the fresh backend still answers what needs no connection: `logs()` (local files;
 * Mesos agents, found through stored attempts), `describe()` (state `standby`) and `capacity()`.
 */
export class TermBackend implements Backend {
  readonly cluster: string;
  readonly kind: string;
  readonly placement: PlacementTraits;
  readonly defaultRole?: string | undefined;
  readonly roles?: readonly string[];
  readonly groups?: GroupRunner;
  readonly waiting?: (work: WaitingWork) => void;
  readonly executorLogs?: Backend['executorLogs'];
  private inner: Backend;
  private started = false;
  private term = 0;
  private events: (events: BackendEvent[]) => void | Promise<void> = () => {};
  private capacityListener: () => void = () => {};
  private groupEvents: (events: GroupEvent[]) => Promise<void> = async () => {};

  constructor(private readonly make: () => Backend) {
    this.inner = make();
    this.cluster = this.inner.cluster;
    this.kind = this.inner.kind;
    this.placement = this.inner.placement;
    if (this.inner.defaultRole !== undefined) this.defaultRole = this.inner.defaultRole;
    if (this.inner.roles !== undefined) this.roles = this.inner.roles;
    if (this.inner.waiting) this.waiting = (work) => this.inner.waiting?.(work);
    if (this.inner.executorLogs)
      this.executorLogs = (attempt, stream, offset, maxBytes) =>
        this.inner.executorLogs!(attempt, stream, offset, maxBytes);
    if (this.inner.groups) this.groups = this.groupsView();
    this.wire(this.inner);
  }

  /** The backend of the current term (for tests and diagnostics). */
  get current(): Backend {
    return this.inner;
  }

  async start(): Promise<void> {
    this.started = true;
    await this.inner.start();
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
    this.capacityListener = listener;
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
    this.events = listener;
  }

  describe(): ClusterInfo {
    const info = this.inner.describe();
    if (this.started) return info;
    const standby = 'standby (another replica leads)';
    return {
      ...info,
      state: 'standby',
      ...(info.mesos ? { mesos: { ...info.mesos, connection: standby } } : {}),
    };
  }

  /** Ends the term: the backend closes (attempts keep running) and a fresh one waits for the next. */
  async close(): Promise<void> {
    const old = this.inner;
    this.term++;
    this.started = false;
    this.inner = this.make();
    this.wire(this.inner);
    await old.close();
  }

  private wire(backend: Backend): void {
    const term = this.term;
    // Never settles: not stored, so never confirmed (a Mesos update is not acknowledged), and no
    // rejection a backend that does not wait for it would leave unhandled.
    const refused = () => new Promise<void>(() => {});
    backend.onEvents((events) => (term === this.term ? this.events(events) : refused()));
    backend.onCapacity(() => {
      if (term === this.term) this.capacityListener();
    });
    backend.groups?.onEvents((events) => (term === this.term ? this.groupEvents(events) : refused()));
  }

  /**
   * The pipeline part, always of the current term's backend: every call goes to it, except the
   * listener, registered here once.
   */
  private groupsView(): GroupRunner {
    const onEvents = (listener: (events: GroupEvent[]) => Promise<void>) => {
      this.groupEvents = listener;
    };
    const current = () => this.inner.groups!;
    return new Proxy({} as GroupRunner, {
      get(_, name) {
        if (name === 'onEvents') return onEvents;
        const groups = current();
        const value: unknown = Reflect.get(groups, name);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(groups) : value;
      },
    });
  }
}
