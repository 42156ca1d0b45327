import type { NewAuditEntry } from '../auth/audit-rows.js';
import type { NewRun, RunRecord } from '../model/records.js';

type Result = { run: RunRecord; created: boolean };
interface Waiting {
  run: NewRun;
  /** The audit entry of the execute, stored with its run. */
  audit: NewAuditEntry | undefined;
  resolve: (r: Result) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for run inserts: the runs added while the current microtasks run go together in
 * one statement (executes whose definitions one shared lookup answered all arrive there), and
 * while a statement is in flight the runs that arrive wait and go together in the next one. An
 * idle server inserts at once (no timer, no added latency); a busy one writes many runs per
 * round trip. If a batch fails, its runs are retried one by one, so one bad run cannot fail the
 * others. The audit entries of the executes go in the same statement as their runs.
 */
export class InsertBatcher {
  private queue: Waiting[] = [];
  /** A flush is scheduled or running: new runs join its next batch. */
  private flushing = false;

  constructor(
    private readonly insert: (runs: readonly NewRun[], audits: readonly NewAuditEntry[]) => Promise<Result[]>,
    private readonly maxBatch: number,
  ) {}

  add(run: NewRun, audit?: NewAuditEntry): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ run, audit, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // After the microtasks already queued: every execute resumed by the same lookup joins.
        process.nextTick(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        try {
          const results = await this.insert(
            batch.map((w) => w.run),
            batch.flatMap((w) => (w.audit ? [w.audit] : [])),
          );
          batch.forEach((w, i) => w.resolve(results[i]!));
        } catch (err) {
          if (batch.length === 1) batch[0]!.reject(err);
          else
            for (const w of batch)
              await this.insert([w.run], w.audit ? [w.audit] : []).then((r) => w.resolve(r[0]!), w.reject);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The next batch: up to maxBatch runs, never two with the same idempotence key. */
  private take(): Waiting[] {
    const batch: Waiting[] = [];
    const keys = new Set<string>();
    const rest: Waiting[] = [];
    for (const w of this.queue) {
      const key = w.run.idempotenceKey;
      if (batch.length >= this.maxBatch || (key !== null && keys.has(key))) rest.push(w);
      else {
        batch.push(w);
        if (key !== null) keys.add(key);
      }
    }
    this.queue = rest;
    return batch;
  }
}
