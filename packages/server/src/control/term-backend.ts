import type { Backend, BackendEvent, ClusterInfo } from '../backends/backend.js';
import { DelegatingBackend } from '../backends/delegating-backend.js';
import type { GroupEvent } from '../backends/group-runner.js';

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
export class TermBackend extends DelegatingBackend {
  private started = false;
  private term = 0;
  private events: (events: BackendEvent[]) => void | Promise<void> = () => {};
  private capacityListener: () => void = () => {};
  private groupEvents: (events: GroupEvent[]) => Promise<void> = async () => {};

  constructor(private readonly make: () => Backend) {
    super(make());
    if (this.groups)
      this.groups = this.groupsView({
        onEvents: (listener) => {
          this.groupEvents = listener;
        },
      });
    this.wire(this.inner);
  }

  /** The backend of the current term (for tests and diagnostics). */
  get current(): Backend {
    return this.inner;
  }

  override async start(): Promise<void> {
    this.started = true;
    await this.inner.start();
  }

  override onCapacity(listener: () => void): void {
    this.capacityListener = listener;
  }

  override onEvents(listener: (events: BackendEvent[]) => void | Promise<void>): void {
    this.events = listener;
  }

  override describe(): ClusterInfo {
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
  override async close(): Promise<void> {
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
}
