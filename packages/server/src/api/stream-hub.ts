import type { ServerResponse } from 'node:http';
import type { RunRecord } from '../model/records.js';
import type { RunFeed } from '../runs/feed.js';
import { presentRun } from './present.js';

/** A client whose unsent backlog passes this many bytes is too slow and is disconnected. */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

/** One connected client of the event stream. */
interface Client {
  res: ServerResponse;
  /** Only these runs; null = every run. */
  only: ReadonlySet<string> | null;
  /** Whose stream it is (a token; null = uncounted): at most `maxPerKey` each. */
  key: string | null;
}

/**
 * The server-sent event stream's fan-out: it listens to the run feed once, turns each change into
 * its `event: run` frame ONCE, and writes that same frame to every client that wants it (a
 * thousand clients cost one JSON serialisation per change, not a thousand). At most `maxClients`
 * are connected at a time; `admit` refuses the rest, so the caller answers 503 with Retry-After.
 */
export class StreamHub {
  private readonly clients = new Set<Client>();
  private unsubscribe: (() => void) | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly perKey = new Map<string, number>();

  constructor(
    private readonly feed: RunFeed,
    readonly maxClients: number,
    /** Streams one key (a token) may hold at once. */
    readonly maxPerKey = Infinity,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Whether another client may connect now. */
  hasRoom(): boolean {
    return this.clients.size < this.maxClients;
  }

  /** Whether `key` may open another stream now. */
  hasRoomFor(key: string): boolean {
    return (this.perKey.get(key) ?? 0) < this.maxPerKey;
  }

  /** Starts streaming to `res` (headers already written); it leaves when its connection closes. */
  add(res: ServerResponse, only: ReadonlySet<string> | null, key: string | null = null): void {
    const client: Client = { res, only, key };
    this.clients.add(client);
    if (key !== null) this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    res.on('close', () => this.remove(client));
    if (!this.unsubscribe) this.unsubscribe = this.feed.subscribe((run) => this.publish(run));
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        for (const c of this.clients) c.res.write(': ping\n\n');
      }, HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  /** Ends every client's stream (server shutdown). */
  close(): void {
    for (const c of [...this.clients]) c.res.end();
    this.stop();
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    if (client.key !== null) {
      const left = (this.perKey.get(client.key) ?? 1) - 1;
      if (left > 0) this.perKey.set(client.key, left);
      else this.perKey.delete(client.key);
    }
    if (this.clients.size === 0) this.stop();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private publish(run: RunRecord): void {
    let frame: string | null = null;
    for (const c of this.clients) {
      if (c.only && !c.only.has(run.runId)) continue;
      if (c.res.writableLength > MAX_BACKLOG_BYTES) {
        c.res.destroy();
        continue;
      }
      frame ??= `id: ${run.version}\nevent: run\ndata: ${JSON.stringify(presentRun(run))}\n\n`;
      c.res.write(frame);
    }
  }
}
