import { Agent, request } from 'node:http';
import { RecordIODecoder, decodeJson } from '@galley/mesos';

/**
 * A raw HTTP/1.1 client for testing the fake on the wire: it keeps the exact response header
 * order (`rawHeaders`) and reads RecordIO event streams record by record, like the recorder of
 * the transcripts did (a dedicated connection for SUBSCRIBE, a keep-alive pool for calls).
 */

export type HeaderPairs = Array<[string, string]>;

/** A complete response. */
export interface RawResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: HeaderPairs;
  readonly body: string;
}

/** A request; `body` objects are sent as JSON. */
export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: HeaderPairs;
  readonly body?: string | object;
}

const pool = new Agent({ keepAlive: true, maxSockets: 16 });

function pairs(raw: string[]): HeaderPairs {
  const out: HeaderPairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

function bodyText(body: RawRequest['body']): string | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** Sends one request on the keep-alive pool and reads the whole answer. */
export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(req.path, baseUrl);
  const body = bodyText(req.body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: req.method ?? 'POST', agent: pool, headers: Object.fromEntries(req.headers ?? []) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: pairs(res.rawHeaders),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** One record read from an event stream. */
export interface StreamRecord {
  readonly raw: string;
  readonly event: Record<string, unknown>;
  readonly type: string;
  /** Milliseconds since the stream opened. */
  readonly at: number;
}

/** A SUBSCRIBE response: its head and, for 200, the records as they arrive. */
export class EventStream {
  readonly records: StreamRecord[] = [];
  /** How the body ended: a clean chunked terminator, or an abort. */
  readonly ended: Promise<'eof' | 'aborted'>;
  private endedAs: 'eof' | 'aborted' | undefined;
  private readonly waiters = new Set<() => void>();
  /** Milliseconds since the epoch when the response head arrived (`at` of records counts from here). */
  readonly openedAt = Date.now();
  private readonly consumed = new Set<number>();
  /** Every record below this index was returned by `next`. */
  private lowWater = 0;

  constructor(
    readonly status: number,
    readonly headers: HeaderPairs,
    private readonly destroy: () => void,
    attach: (onRecord: (raw: string) => void, onEnd: (how: 'eof' | 'aborted') => void) => void,
  ) {
    const opened = this.openedAt;
    this.ended = new Promise((resolve) => {
      attach(
        (raw) => {
          const event = decodeJson(raw) as Record<string, unknown>;
          this.records.push({ raw, event, type: String(event.type), at: Date.now() - opened });
          this.wake();
        },
        (how) => {
          if (this.endedAs !== undefined) return;
          this.endedAs = how;
          resolve(how);
          this.wake();
        },
      );
    });
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter();
  }

  /** True once the body ended. */
  get closed(): boolean {
    return this.endedAs !== undefined;
  }

  /**
   * Resolves with the oldest record not yet returned by `next` that matches (and marks it
   * returned); waits for one if needed. Rejects after `timeoutMs` or when the stream ends first.
   */
  async next(
    match: (record: StreamRecord) => boolean = () => true,
    timeoutMs = 10_000,
    what = 'an event',
  ): Promise<StreamRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.lowWater; i < this.records.length; i++) {
        const record = this.records[i] as StreamRecord;
        if (!this.consumed.has(i) && match(record)) {
          this.consumed.add(i);
          while (this.consumed.has(this.lowWater)) this.consumed.delete(this.lowWater++);
          return record;
        }
      }
      if (this.endedAs !== undefined) throw new Error(`stream ended (${this.endedAs}) before ${what}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the next record of a type. */
  nextOfType(type: string, timeoutMs = 10_000): Promise<StreamRecord> {
    return this.next((r) => r.type === type, timeoutMs, `a ${type} event`);
  }

  /** Records of a type received so far (whether returned by `next` or not). */
  ofType(type: string): StreamRecord[] {
    return this.records.filter((r) => r.type === type);
  }

  /** Closes the connection from the client side. */
  close(): void {
    this.destroy();
  }
}

/** POSTs a SUBSCRIBE on a dedicated connection; for a 200 the stream is read as it arrives. */
export function openStream(baseUrl: string, req: RawRequest): Promise<EventStream | RawResponse> {
  const url = new URL(req.path, baseUrl);
  const body = bodyText(req.body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: req.method ?? 'POST', agent: false, headers: Object.fromEntries(req.headers ?? []) },
      (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? '',
              headers: pairs(res.rawHeaders),
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          return;
        }
        resolve(
          new EventStream(
            res.statusCode,
            pairs(res.rawHeaders),
            () => outgoing.destroy(),
            (onRecord, onEnd) => {
              const decoder = new RecordIODecoder();
              res.on('data', (chunk: Buffer) => {
                for (const record of decoder.decode(chunk)) onRecord(record.toString('utf8'));
              });
              res.on('end', () => onEnd('eof'));
              res.on('aborted', () => onEnd('aborted'));
              res.on('error', () => onEnd('aborted'));
              res.on('close', () => onEnd(res.complete ? 'eof' : 'aborted'));
            },
          ),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The JSON headers every recorded call carried. */
export const JSON_HEADERS: HeaderPairs = [
  ['Content-Type', 'application/json'],
  ['Accept', 'application/json'],
];
