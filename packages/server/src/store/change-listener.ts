import pg from 'pg';
import { CHANGES_CHANNEL, type ChangeNotice, parseNotice } from './notify.js';

/** What a change listener tells. */
export interface ChangeListenerOptions {
  url: string;
  /** A change another replica committed (the replica's own are left out). */
  onNotice: (notice: ChangeNotice) => void;
  /** The connection was lost and is back: notifications in between may be missed. */
  onGap: () => void;
  /** This replica's id: notices from it are ignored. */
  origin: string;
  onError?: (err: Error) => void;
}

/** A running listener. */
export interface ChangeListener {
  close(): Promise<void>;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * Listens (LISTEN) for the changes other replicas commit, on a connection of its own, reconnecting
 * with back-off when it is lost; after a reconnection `onGap` says notices may have been missed.
 * Resolves once listening.
 */
export async function listenForChanges(options: ChangeListenerOptions): Promise<ChangeListener> {
  let closed = false;
  let client: pg.Client | null = null;
  let retryMs = RETRY_MIN_MS;
  let timer: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: options.url, application_name: 'galley-listen' });
    const lost = (err: Error) => {
      if (client !== c) return;
      client = null;
      c.end().catch(() => undefined);
      if (closed) return;
      options.onError?.(err);
      reconnect();
    };
    c.on('error', lost);
    c.on('end', () => lost(new Error('the listening connection ended')));
    c.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || msg.payload === undefined) return;
      const notice = parseNotice(msg.payload);
      if (notice && notice.origin !== options.origin) options.onNotice(notice);
    });
    await c.connect();
    client = c;
    try {
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      lost(err as Error);
      throw err;
    }
    retryMs = RETRY_MIN_MS;
  };
  const reconnect = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      connect().then(
        () => options.onGap(),
        (err: unknown) => {
          options.onError?.(err as Error);
          retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
          reconnect();
        },
      );
    }, retryMs);
    timer.unref();
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
