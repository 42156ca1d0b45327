import type { TaskEvent } from './instances.js';

/** Thrown by the task manager's API for requests that cannot be honoured. */
export class TaskManagerError extends Error {
  constructor(
    /** Stable code: `UNKNOWN_TASK_SPEC`, `SCALING_NOT_ALLOWED`, `BAD_INSTANCE_COUNT`, `STOPPED`. */
    readonly code: 'UNKNOWN_TASK_SPEC' | 'SCALING_NOT_ALLOWED' | 'BAD_INSTANCE_COUNT' | 'STOPPED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TaskManagerError';
  }
}

/** One ACCEPT the manager sent: which offers of which agent launched which tasks. */
export interface OffersAccepted {
  type: 'offers_accepted';
  agentId: string;
  role: string | undefined;
  offerIds: string[];
  taskIds: string[];
}

/** Mesos reported a task the manager did not know, and what the manager did about it. */
export interface UnknownTask {
  type: 'task_unknown';
  taskId: string;
  agentId: string | undefined;
  state: string;
  /** `adopted` (one of ours, for a free slot), `killed` (reported once per task; KILL is re-sent on each report), or `ignored` (terminal, or killUnknownTasks off). */
  action: 'adopted' | 'killed' | 'ignored';
}

/** A call the manager made failed (it recovers on its own; this is for logs and metrics). */
export interface TaskManagerFailure {
  type: 'error';
  /** Which call failed: ACCEPT, DECLINE, KILL, SUPPRESS, REVIVE. */
  call: string;
  error: unknown;
}

/** Every event of the task manager, by its `type`. */
export type TaskManagerEvent = TaskEvent | OffersAccepted | UnknownTask | TaskManagerFailure;

/** The names of the task manager's events. */
export type TaskManagerEventName = TaskManagerEvent['type'];

/** The payload of one event name. */
export type TaskManagerEventOf<K extends TaskManagerEventName> = Extract<TaskManagerEvent, { type: K }>;

/**
 * A small typed emitter. A listener that throws does not stop the others or the manager; the
 * error is passed to `report` (the manager's logger).
 */
export class TaskManagerEmitter {
  private readonly listeners = new Map<TaskManagerEventName, Set<(e: never) => void>>();

  constructor(private readonly report: (error: unknown, event: TaskManagerEventName) => void) {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends TaskManagerEventName>(name: K, listener: (event: TaskManagerEventOf<K>) => void): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) this.listeners.set(name, (set = new Set()));
    set.add(listener as (e: never) => void);
    return () => set.delete(listener as (e: never) => void);
  }

  /** Delivers an event to its listeners, in the order they were added. */
  emit(event: TaskManagerEvent): void {
    const set = this.listeners.get(event.type);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as (e: TaskManagerEvent) => void)(event);
      } catch (error) {
        this.report(error, event.type);
      }
    }
  }
}
