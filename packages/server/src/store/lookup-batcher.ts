/**
 * Coalesces reads by key: the keys asked for during one turn of the event loop are read with
 * ONE query (`load(keys)`), and concurrent asks for the same key share it. An idle server reads
 * at the next turn (microseconds); a busy one reads many keys per statement. Embedded PGlite
 * runs a whole request in one turn when nothing waits for I/O, so without the turn boundary
 * concurrent requests never meet.
 *
 * A read answers what the store had when its query ran, which is after it was asked and before
 * it is answered, as a read of its own would. If the batch's query fails, each key is read again on
 * its own, so one bad key (say, one the database cannot encode) fails only its own readers.
 */
export class LookupBatcher<V> {
  private pending = new Map<string, { resolve: (v: V | null) => void; reject: (err: unknown) => void }[]>();
  private scheduled = false;

  /** `load` answers the found values by key; a key left out is not found (null). */
  constructor(private readonly load: (keys: string[]) => Promise<ReadonlyMap<string, V>>) {}

  /** The value of `key`, or null when there is none. */
  get(key: string): Promise<V | null> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    this.load([...batch.keys()]).then(
      (found) => {
        for (const [key, waiting] of batch) for (const w of waiting) w.resolve(found.get(key) ?? null);
      },
      (err: unknown) => {
        if (batch.size === 1) {
          for (const waiting of batch.values()) for (const w of waiting) w.reject(err);
          return;
        }
        for (const [key, waiting] of batch)
          this.load([key]).then(
            (found) => {
              for (const w of waiting) w.resolve(found.get(key) ?? null);
            },
            (one: unknown) => {
              for (const w of waiting) w.reject(one);
            },
          );
      },
    );
  }
}
