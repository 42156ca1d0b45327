import type { Node } from '@galley/core';
import type { RunRecord } from '../model/records.js';
import type { QueueCursor } from '../store/store.js';

/** Free resources of each node, as a vector: cpus, memory, disk, gpus, ports. */
type FreeByNode = Map<string, number[]>;

function freeOf(nodes: readonly Node[]): FreeByNode {
  return new Map(
    nodes.map((n) => [
      n.id,
      [
        n.free.cpus,
        n.free.memMb,
        n.free.diskMb,
        n.free.gpus,
        n.free.portRanges.reduce((a, [lo, hi]) => a + hi - lo + 1, 0),
      ],
    ]),
  );
}

/**
 * What the run controller remembers of a cluster's queue between dispatch rounds, so a backlog is not
 * re-read and re-placed on every execute. After a round that left runs waiting, those runs cannot
 * be placed until some node has more free capacity than it had then (or a retried run rejoins the
 * queue at its old place); until that happens a round only reads the runs queued after the ones
 * already considered. Anything that may have made room (capacity grew, a run was requeued, a
 * store conflict) makes the next round read the queue from its head again.
 */
export class QueueView {
  private cursor: QueueCursor | null = null;
  private free: FreeByNode = new Map();
  private stale = true;
  /** Invalidations so far, and how many there were when the current round read (see afterRound). */
  private invalidations = 0;
  private invalidationsAtRead = 0;
  private headReadAt = -Infinity;
  /** When the head must be read again at the latest (see `readHeadAt`). */
  private headDueAt = Infinity;

  /**
   * Where the next round starts reading: undefined = the head of the queue. The head is also
   * re-read when a round comes `refreshMs` after the last head read; a run committed behind the
   * cursor is not left to that (no round may come): the feed notes it (`noteQueued`).
   */
  readFrom(nodes: readonly Node[], now: number, refreshMs = 1_000): QueueCursor | undefined {
    this.invalidationsAtRead = this.invalidations;
    if (
      this.stale ||
      this.cursor === null ||
      now - this.headReadAt >= refreshMs ||
      now >= this.headDueAt ||
      this.grew(freeOf(nodes))
    ) {
      this.cursor = null;
      this.headReadAt = now;
      this.headDueAt = Infinity;
      return undefined;
    }
    return this.cursor;
  }

  /**
   * Records a round: the runs it read (queue order), whether some were left waiting (or more may
   * follow), and the nodes' free capacity after its launches.
   */
  afterRound(read: readonly RunRecord[], leftWaiting: boolean, nodesAfter: readonly Node[]): void {
    // An invalidation while the round ran (a store conflict in its own write) still holds.
    this.stale = this.invalidations !== this.invalidationsAtRead;
    this.free = freeOf(nodesAfter);
    const last = read[read.length - 1];
    if (!leftWaiting) this.cursor = null;
    else if (last) this.cursor = { queuedAt: last.state.queuedAt, runId: last.runId };
  }

  /**
   * A run was queued (or queued again) at `queuedAt`: one not after the cursor would be skipped by
   * a round reading after it (commits out of queue order: group-committed executes, another
   * replica's), so the next round reads from the head.
   */
  noteQueued(queuedAt: number): void {
    if (this.cursor !== null && queuedAt <= this.cursor.queuedAt) this.invalidate();
  }

  /** A round at or after `at` reads from the head (a waiting run's reason is due then). */
  readHeadAt(at: number): void {
    this.headDueAt = Math.min(this.headDueAt, at);
  }

  /** Something may have made room or put a run back at an old place: read from the head next time. */
  invalidate(): void {
    this.stale = true;
    this.invalidations++;
  }

  private grew(now: FreeByNode): boolean {
    for (const [id, free] of now) {
      const before = this.free.get(id);
      if (!before || free.some((v, i) => v > before[i]!)) return true;
    }
    return false;
  }
}
