import type { Logger } from 'pino';
import type { RunRecord } from '../model/records.js';
import type { RunFeed } from '../runs/feed.js';
import type { ChangeNotice } from '../store/notify.js';
import type { PipelineRepository, RunRepository } from '../store/store.js';

/** Runs whose last published version is remembered (the oldest are forgotten beyond it). */
const REMEMBERED = 50_000;

export interface ChangeFollowerOptions {
  store: Pick<RunRepository, 'getRuns'> & Pick<PipelineRepository, 'listPipelines'>;
  /** This replica's feed (its event stream, log followers, the run controller's view of the queue). */
  feed: RunFeed;
  /** The run controller: told of runs another replica changed (the leader acts on them). */
  runs: { changedElsewhere(runs: readonly RunRecord[], gap: boolean): void };
  /** The pipeline controller: woken for pipelines another replica changed. */
  pipelines: { wake(pipelineId: string): void };
  logger: Logger;
}

/**
 * What other replicas changed, brought into this one. Every replica serves the whole API: a run
 * executed, stopped or moved on by another replica is read back from the store and published into
 * this replica's RunFeed (so its event stream sees every change), the run controller is told (the
 * leader wakes, kills what a follower asked to stop), and a pipeline changed elsewhere is synced.
 * Notices that arrive together are read together; a version already published is not again.
 */
export class ChangeFollower {
  private readonly wanted = new Map<string, number>();
  private readonly published = new Map<string, number>();
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: ChangeFollowerOptions) {}

  notice(n: ChangeNotice): void {
    if (this.closed) return;
    if (n.kind === 'pipeline') {
      this.o.pipelines.wake(n.pipelineId);
      return;
    }
    for (const { runId, version } of n.runs) {
      if ((this.published.get(runId) ?? 0) >= version) continue;
      this.wanted.set(runId, Math.max(version, this.wanted.get(runId) ?? 0));
    }
    if (this.wanted.size === 0 || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.chain = this.chain
        .then(() => this.read())
        .catch((err: unknown) =>
          this.o.logger.warn({ err }, 'changes: runs changed elsewhere could not be read'),
        );
    });
  }

  /** Notices may have been missed (the listening connection was lost): everything is looked at again. */
  gap(): void {
    if (this.closed) return;
    this.o.runs.changedElsewhere([], true);
    this.chain = this.chain
      .then(async () => {
        for (const p of await this.o.store.listPipelines()) this.o.pipelines.wake(p.pipelineId);
      })
      .catch((err: unknown) => this.o.logger.warn({ err }, 'changes: pipelines could not be listed'));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
  }

  private async read(): Promise<void> {
    const ids = [...this.wanted.keys()];
    this.wanted.clear();
    if (ids.length === 0 || this.closed) return;
    const runs = await this.o.store.getRuns(ids);
    const fresh = runs.filter((r) => (this.published.get(r.runId) ?? 0) < r.version);
    for (const r of fresh) this.remember(r.runId, r.version);
    this.o.feed.publish(fresh);
    this.o.runs.changedElsewhere(fresh, false);
  }

  private remember(runId: string, version: number): void {
    this.published.delete(runId);
    this.published.set(runId, version);
    if (this.published.size > REMEMBERED) {
      const oldest = this.published.keys().next().value;
      if (oldest !== undefined) this.published.delete(oldest);
    }
  }
}
