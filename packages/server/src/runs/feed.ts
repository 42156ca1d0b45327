import type { RunRecord } from '../model/records.js';

/**
 * Fan-out of stored run changes to in-process listeners (the SSE stream, log followers, metrics).
 * Listeners are called synchronously after each store commit, in commit order; a throwing
 * listener does not affect the others.
 */
export class RunFeed {
  private readonly listeners = new Set<(run: RunRecord) => void>();

  /** Subscribes; answers the unsubscribe function. */
  subscribe(listener: (run: RunRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(runs: readonly RunRecord[]): void {
    for (const run of runs) {
      for (const listener of this.listeners) {
        try {
          listener(run);
        } catch {
          // A listener's failure is its own (e.g. a closed socket); the others still hear.
        }
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
