/**
 * The ordered work queue (what Ark did): Mesos events and user messages go through ONE queue and
 * are processed one at a time, in the order they were pushed, by a single consumer.
 *
 * Bounded with backpressure: `push` resolves only once the item is in the queue, waiting while
 * `capacity` items are already waiting. The scheduler awaits `push` between records of the
 * subscription stream, so a slow handler stops the socket from being read.
 *
 * The order is the order of the `push` calls, waiting or not: a push made while others wait for
 * room queues behind them, and an item that can be queued is queued before `push` returns, so
 * what a caller pushes is ahead of anything its observers push after it. Processing never starts
 * inside `push`: the consumer runs on a later microtask.
 *
 * A processing function that throws does not stop the loop: the error goes to `onError` and the
 * next item is processed.
 */

/** Options of `OrderedQueue`. */
export interface OrderedQueueOptions<T> {
  /** Most items waiting (not counting the one being processed). ≥ 1. */
  capacity: number;
  /** Processes one item; the next one starts only after the returned promise settles. */
  process: (item: T) => Promise<void> | void;
  /** Called with each error `process` throws. Must not throw. */
  onError: (error: unknown, item: T) => void;
}

/** A bounded FIFO with exactly one consumer. */
export class OrderedQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private running = false;
  private closed = false;
  /** Made only when someone waits for the queue to drain (most runs end unobserved). */
  private idle: Promise<void> | undefined;
  private resolveIdle: (() => void) | undefined;
  /** Pushes waiting for room, oldest first; their items enter the queue in this order. */
  private readonly writers: Writer<T>[] = [];
  private writersHead = 0;

  constructor(private readonly options: OrderedQueueOptions<T>) {
    if (!(options.capacity >= 1)) throw new RangeError('queue capacity must be at least 1');
  }

  /** Items waiting to be processed. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** True while `push` would have to wait (no room, or other pushes already waiting). */
  get full(): boolean {
    return !this.hasRoom() || this.writersHead < this.writers.length;
  }

  /**
   * Adds `item` at the end, waiting for room while the queue is full. Resolves once it is
   * queued. Rejects with `QueueClosedError` when the queue is (or gets) closed.
   */
  push(item: T): Promise<void> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    if (!this.full) {
      this.items.push(item);
      this.run();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.writers.push({ item, resolve, reject }));
  }

  /** Removes waiting items for which `predicate` is true (e.g. offers of a dead subscription). */
  removeWhere(predicate: (item: T) => boolean): number {
    const kept = this.items.slice(this.head).filter((item) => !predicate(item));
    const removed = this.size - kept.length;
    this.items.length = 0;
    this.head = 0;
    this.items.push(...kept);
    this.wakeWriters();
    return removed;
  }

  /** Resolves when nothing is waiting and nothing is being processed. */
  drained(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.idle ??= new Promise((resolve) => (this.resolveIdle = resolve));
    return this.idle;
  }

  /**
   * Stops accepting items, drops the waiting ones and rejects pending pushes. Resolves when the
   * item being processed (if any) has finished.
   */
  close(): Promise<void> {
    this.closed = true;
    this.items.length = 0;
    this.head = 0;
    const writers = this.writers.splice(0).slice(this.writersHead);
    this.writersHead = 0;
    for (const writer of writers) writer.reject(new QueueClosedError());
    return this.drained();
  }

  private hasRoom(): boolean {
    return this.size < this.options.capacity;
  }

  /**
   * Starts the consumer on a microtask, never inside `push`: whoever pushes finishes its
   * synchronous step (the session telling its listeners, say) before a handler runs.
   */
  private run(): void {
    if (this.running) return;
    this.running = true;
    queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    while (this.size > 0) {
      const item = this.items[this.head] as T;
      this.items[this.head] = undefined as T;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      this.wakeWriters();
      try {
        await this.options.process(item);
      } catch (error) {
        this.options.onError(error, item);
      }
    }
    this.running = false;
    const resolveIdle = this.resolveIdle;
    this.idle = undefined;
    this.resolveIdle = undefined;
    resolveIdle?.();
  }

  /** Moves waiting pushes into the queue, oldest first, while there is room. */
  private wakeWriters(): void {
    let moved = false;
    while (this.writersHead < this.writers.length && this.hasRoom()) {
      const writer = this.writers[this.writersHead] as Writer<T>;
      this.writers[this.writersHead] = undefined as unknown as Writer<T>;
      this.writersHead++;
      this.items.push(writer.item);
      writer.resolve();
      moved = true;
    }
    if (this.writersHead === this.writers.length) {
      this.writers.length = 0;
      this.writersHead = 0;
    }
    if (moved) this.run();
  }
}

/** A push waiting for room. */
interface Writer<T> {
  item: T;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** `push` on a closed queue (the scheduler stopped). */
export class QueueClosedError extends Error {
  readonly code = 'MESOS_QUEUE_CLOSED';
  constructor() {
    super('the scheduler queue is closed');
    this.name = 'QueueClosedError';
  }
}
