import type { Run } from './types.js';

/** The server-sent event stream of run changes (see the server's OpenAPI document). */
export const RUN_STREAM_PATH = '/api/v1/stream';

/** `connecting` until the first open, `open` while events flow, `error` while reconnecting. */
export type StreamState = 'connecting' | 'open' | 'error';

export interface RunStreamListener {
  /** A run as stored after a change (at-least-once; the same version may come twice). */
  onRun?(run: Run): void;
  /**
   * The stream (re)connected: changes made while it was down were not delivered, so anything
   * shown must be re-read (level-triggered).
   */
  onReconnect?(): void;
  onState?(state: StreamState): void;
}

/** Backoff for re-opening a stream the browser gave up on: ms, capped, with ±20% jitter. */
export function reopenDelayMs(failures: number, random: () => number): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(failures, 5));
  return Math.round(base * (0.8 + 0.4 * random()));
}

function readRun(data: string): Run | null {
  try {
    const value = JSON.parse(data) as Record<string, unknown>;
    const run = (value['run'] && typeof value['run'] === 'object' ? value['run'] : value) as Run;
    return typeof run.run_id === 'string' && typeof run.status === 'string' ? run : null;
  } catch {
    return null;
  }
}

/**
 * One EventSource shared by every view that wants run changes. The browser reconnects by itself
 * after a dropped connection; when it gives up (the server answered an error), this re-opens it
 * after `reopenDelayMs`. The connection is open while at least one listener is subscribed;
 * `close()` stops everything for good, including a pending re-open.
 */
export class RunStream {
  private source: EventSource | null = null;
  private readonly listeners = new Set<RunStreamListener>();
  private failures = 0;
  private reopenTimer: ReturnType<typeof setTimeout> | null = null;
  private opened = false;
  private closed = false;
  state: StreamState = 'connecting';

  constructor(
    private readonly url: string = RUN_STREAM_PATH,
    private readonly random: () => number = Math.random,
  ) {}

  /** Adds a listener; answers the function that removes it. Opens the stream on first use. */
  subscribe(listener: RunStreamListener): () => void {
    this.listeners.add(listener);
    if (!this.source && !this.reopenTimer && !this.closed) this.open();
    listener.onState?.(this.state);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.shutdown();
    };
  }

  /** Stops for good: no more events, no re-open. */
  close(): void {
    this.closed = true;
    this.shutdown();
  }

  /** Closes the connection until the next subscriber comes. */
  private shutdown(): void {
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    this.source?.close();
    this.source = null;
    this.opened = false;
    this.state = 'connecting';
  }

  private setState(state: StreamState): void {
    if (this.state === state) return;
    this.state = state;
    for (const l of this.listeners) l.onState?.(state);
  }

  private open(): void {
    const source = new EventSource(this.url);
    this.source = source;
    const onData = (event: MessageEvent<string>) => {
      const run = readRun(event.data);
      if (run) for (const l of this.listeners) l.onRun?.(run);
    };
    source.addEventListener('message', onData);
    source.addEventListener('run', onData as EventListener);
    source.addEventListener('open', () => {
      const wasOpened = this.opened;
      this.opened = true;
      this.failures = 0;
      this.setState('open');
      if (wasOpened) for (const l of this.listeners) l.onReconnect?.();
    });
    source.addEventListener('error', () => {
      this.setState('error');
      if (source.readyState === EventSource.CLOSED && !this.closed) {
        source.close();
        this.source = null;
        const delay = reopenDelayMs(this.failures++, this.random);
        this.reopenTimer = setTimeout(() => {
          this.reopenTimer = null;
          if (!this.closed) this.open();
        }, delay);
      }
    });
  }
}
