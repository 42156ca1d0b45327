import type { FakeMesos } from '@galley/mesos/testing';
import { vi } from 'vitest';
import {
  EventStream,
  openStream,
  rawRequest,
  type RawResponse,
  type StreamRecord,
} from '../../testing/support/wire-client.js';
import { compareEvent, compareResponse, IdTable, numberFormats, type Relax } from './compare.js';
import {
  agentPorts,
  recordedOffers,
  recordsOf,
  type Exchange,
  type RecordedRecord,
  type Transcript,
} from './transcripts.js';

/**
 * Replays a transcript's requests against the fake, in order, and compares every answer and
 * every event with the recording. Before each request it waits until the fake has sent the
 * equivalents of the significant events (SUBSCRIBED, UPDATE, RESCIND, FAILURE, ERROR, MESSAGE)
 * that the real master had sent by then; recorded ids are replaced by the ids the fake issued
 * (offers: an outstanding offer of the same agent and role). HEARTBEATs and OFFERS are compared
 * for presence and layout, not count (their number depends on time).
 */

const SIGNIFICANT = new Set(['SUBSCRIBED', 'UPDATE', 'RESCIND', 'FAILURE', 'ERROR', 'MESSAGE']);

/** How a scenario adapts the replay. */
export interface ReplayOptions {
  /** Runs before the exchange with that seq (fault injection, waits). */
  before?: Record<number, (replay: Replay) => Promise<void>>;
  /** Exchanges not replayed, with the reason. */
  skip?: Record<number, string>;
  /** Exchanges whose response body is not compared (bodies that hold run-specific data). */
  ignoreBody?: number[];
  /** Rewrites a request body (e.g. to shorten refuse_seconds). */
  transformBody?: (seq: number, body: string) => string;
  /** Fake events that may appear without a recorded counterpart. */
  allowExtra?: (stream: string, record: StreamRecord) => boolean;
  /** How long to wait for each expected event; default 20 s (room for a loaded machine). */
  timeoutMs?: number;
  /** Event fields configured differently from the recording (compared for presence only). */
  masked?: readonly string[];
  /** Drops, on both sides, what the real master did inconsistently within one recording. */
  relax?: Relax;
}

function updateKey(event: Record<string, unknown>): string {
  if (event.type !== 'UPDATE') return String(event.type);
  const status = (event.update as { status: Record<string, unknown> }).status;
  return [
    'UPDATE',
    (status.task_id as { value: string }).value,
    status.state,
    status.source,
    status.reason ?? '',
  ].join('|');
}

function taskOf(event: Record<string, unknown>): string | undefined {
  if (event.type !== 'UPDATE') return undefined;
  return ((event.update as { status: { task_id: { value: string } } }).status.task_id ?? {}).value;
}

/** Walks both events in parallel and links the ids found at the same places. */
function learnLinks(ids: IdTable, recorded: unknown, fake: unknown, key = ''): void {
  if (typeof recorded === 'string' && typeof fake === 'string') {
    if (!ids.isLinked(recorded) && ['value', 'uuid', 'id'].includes(key)) ids.link(recorded, fake);
    return;
  }
  if (Array.isArray(recorded) && Array.isArray(fake)) {
    recorded.forEach((item, i) => learnLinks(ids, item, fake[i], key));
    return;
  }
  if (recorded !== null && fake !== null && typeof recorded === 'object' && typeof fake === 'object') {
    for (const [k, v] of Object.entries(recorded))
      learnLinks(ids, v, (fake as Record<string, unknown>)[k], k);
  }
}

export class Replay {
  readonly ids: IdTable;
  readonly diffs: string[] = [];
  readonly streams = new Map<string, EventStream>();
  private readonly matched = new Map<RecordedRecord, number>();
  private readonly used = new Map<string, Set<number>>();
  private readonly offers: ReturnType<typeof recordedOffers>;
  private readonly timeoutMs: number;

  constructor(
    readonly transcript: Transcript,
    readonly fake: FakeMesos,
    private readonly options: ReplayOptions = {},
  ) {
    // Ids the master issued appear in id fields of its events (not just inside message texts).
    const issuedIds = new Set<string>();
    for (const event of transcript.events) {
      if (event.kind !== 'record') continue;
      const text = event.raw ?? JSON.stringify(event.summary ?? {});
      for (const match of text.matchAll(/"(?:value|uuid|id|agent_id)":"([^"]+)"/g))
        issuedIds.add(match[1] as string);
    }
    const issued = new Set(Object.values(transcript.volatile.values).filter((v) => issuedIds.has(v)));
    this.ids = new IdTable(transcript.volatile.values, issued);
    this.offers = recordedOffers(transcript);
    this.timeoutMs = options.timeoutMs ?? 20_000;
    for (const [agentId, port] of agentPorts(transcript)) {
      const fakeId = fake.agentIds[port - 5051];
      if (fakeId === undefined) continue;
      this.ids.link(agentId, fakeId);
      this.ids.linkPrefix(agentId.replace(/-S\d+$/, ''), fakeId.replace(/-S\d+$/, ''));
    }
  }

  /** The URL that plays the recorded target (`127.0.0.1:5050` master, `:5051`/`:5052` agents). */
  urlOf(target: string): string {
    const port = Number(target.split(':')[1]);
    if (port === 5050) return this.fake.masterUrls[0] as string;
    return this.fake.agentUrl(this.fake.agentIds[port - 5051] as string);
  }

  /** Replays every exchange, then waits for the remaining events and compares stream ends. */
  async run(): Promise<void> {
    const exchanges = [...this.transcript.exchanges].sort((a, b) => a.seq - b.seq);
    for (const exchange of exchanges) {
      await this.options.before?.[exchange.seq]?.(this);
      await this.closeStreamsClosedByRecorderBefore(exchange.t_ms);
      await this.matchEventsBefore(exchange.t_ms);
      if (this.options.skip?.[exchange.seq] !== undefined) continue;
      await this.replayExchange(exchange);
    }
    await this.matchEventsBefore(Number.POSITIVE_INFINITY);
    // Every recorded stream ends (EOF, abort or closed by the recorder): once the fake's ends too,
    // it has delivered everything it will, so extra events are looked for after that, not after
    // a fixed wait.
    await this.compareStreamEnds();
    this.compareFirstOffers();
    this.reportExtraEvents();
    this.checkInOrderDelivery();
    this.checkFirstHeartbeat();
  }

  /**
   * SUBSCRIBED is followed at once by a HEARTBEAT (OFFERS may come between: README item 3): one
   * of the next two events, seen before a heartbeat interval passed (not the interval's timer).
   */
  private checkFirstHeartbeat(): void {
    for (const [stream, fakeStream] of this.streams) {
      const [first] = fakeStream.records;
      if (first?.type !== 'SUBSCRIBED') continue;
      const subscribed = first.event.subscribed as { heartbeat_interval_seconds?: number } | undefined;
      const intervalMs = (subscribed?.heartbeat_interval_seconds ?? 15) * 1000;
      const heartbeat = fakeStream.records.slice(1, 3).find((r) => r.type === 'HEARTBEAT');
      if (heartbeat === undefined || heartbeat.at - first.at >= intervalMs) {
        this.diffs.push(`${stream}: no HEARTBEAT right after SUBSCRIBED`);
      }
    }
  }

  /** Closes, from the client side, the streams the recorder closed before `t`, and waits until the fake noticed. */
  private async closeStreamsClosedByRecorderBefore(t: number): Promise<void> {
    for (const exchange of this.transcript.exchanges) {
      const end = exchange.stream_end;
      if (
        exchange.stream === undefined ||
        end === undefined ||
        end.t_ms >= t ||
        !end.how.startsWith('closed by recorder')
      )
        continue;
      const stream = this.streams.get(exchange.stream);
      if (stream === undefined || stream.closed) continue;
      const streamId = stream.headers.find(([n]) => n === 'Mesos-Stream-Id')?.[1];
      stream.close();
      await this.fake.waitFor((s) => !s.frameworks.some((f) => f.streamId === streamId), {
        what: 'the fake to notice the closed stream',
      });
    }
  }

  /** The request as the fake should receive it: ids replaced, offers resolved. */
  private async prepare(
    exchange: Exchange,
  ): Promise<{ path: string; headers: Array<[string, string]>; body: string | undefined }> {
    let body =
      exchange.request.body_raw ??
      (exchange.request.body === undefined ? undefined : JSON.stringify(exchange.request.body));
    if (body !== undefined) {
      for (const [offerId, where] of this.offers) {
        if (body.includes(offerId) && !this.ids.isLinked(offerId)) await this.resolveOffer(offerId, where);
      }
      body = this.ids.substitute(body);
      if (this.options.transformBody !== undefined) body = this.options.transformBody(exchange.seq, body);
    }
    const headers = exchange.request.headers
      .filter(([name]) => !['host', 'content-length', 'connection'].includes(name.toLowerCase()))
      .map(([name, value]): [string, string] => [name, this.ids.substitute(value)]);
    return { path: this.ids.substitute(exchange.request.path), headers, body };
  }

  /** Links a recorded offer with an outstanding fake offer of the same agent and role. */
  private async resolveOffer(
    offerId: string,
    where: { port: number; role: string; stream: string },
  ): Promise<void> {
    const agentId = this.fake.agentIds[where.port - 5051];
    const frameworkId = this.frameworkOfStream(where.stream);
    const linked = new Set([...this.offers.keys()].map((id) => this.ids.fakeOf(id)));
    const offer = await this.fake.waitFor(
      (s) =>
        s.offers.find(
          (o) =>
            o.agentId === agentId &&
            o.role === where.role &&
            o.frameworkId === frameworkId &&
            !linked.has(o.id),
        ),
      {
        timeoutMs: this.timeoutMs,
        what: `an offer like ${offerId} (agent ${where.port}, role ${where.role})`,
      },
    );
    this.ids.link(offerId, offer.id);
  }

  /** The fake framework id that plays the framework of a recorded stream. */
  frameworkOfStream(stream: string): string | undefined {
    const subscribed = recordsOf(this.transcript, stream).find((r) => r.type === 'SUBSCRIBED');
    const recordedId = (subscribed?.event?.subscribed as { framework_id?: { value: string } } | undefined)
      ?.framework_id?.value;
    return recordedId === undefined ? undefined : this.ids.fakeOf(recordedId);
  }

  private async replayExchange(exchange: Exchange): Promise<void> {
    const request = await this.prepare(exchange);
    const url = this.urlOf(exchange.target);
    const label = `[${exchange.seq}] ${exchange.label}`;
    const req = {
      method: exchange.request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
    };
    if (exchange.error !== undefined) {
      // A SUBSCRIBE goes on its own new connection (as recorded); other calls use the pool.
      const attempt = exchange.streaming === true ? openStream(url, req) : rawRequest(url, req);
      const outcome = await attempt.then(
        (r) => {
          if (r instanceof EventStream) r.close();
          return `HTTP ${r.status}`;
        },
        (e: NodeJS.ErrnoException) => e.code ?? String(e),
      );
      if (outcome !== exchange.error.code)
        this.diffs.push(`${label}: got ${outcome}, recorded ${exchange.error.code}`);
      return;
    }
    const recorded = exchange.response;
    if (recorded === undefined) return;
    if (exchange.streaming === true) {
      const opened = await openStream(url, req);
      if (opened instanceof EventStream) {
        this.streams.set(exchange.stream ?? label, opened);
        const recordedStreamId = recorded.headers.find(([n]) => n === 'Mesos-Stream-Id')?.[1];
        const fakeStreamId = opened.headers.find(([n]) => n === 'Mesos-Stream-Id')?.[1];
        if (recordedStreamId !== undefined && fakeStreamId !== undefined)
          this.ids.link(recordedStreamId, fakeStreamId);
        this.diffs.push(
          ...compareResponse(
            label,
            recorded,
            { status: opened.status, statusText: 'OK', headers: opened.headers },
            this.ids,
            { body: false },
          ),
        );
      } else {
        this.diffs.push(...compareResponse(label, recorded, opened, this.ids));
      }
      return;
    }
    const answer: RawResponse = await rawRequest(url, req);
    const body = this.options.ignoreBody?.includes(exchange.seq) !== true;
    this.diffs.push(...compareResponse(label, recorded, answer, this.ids, { body }));
  }

  /** Waits until every significant recorded event before `t` has its fake counterpart, and compares them. */
  private async matchEventsBefore(t: number): Promise<void> {
    for (const [stream, fakeStream] of this.streams) {
      const byTask = new Map<string, number>();
      for (const recorded of recordsOf(this.transcript, stream)) {
        if (!SIGNIFICANT.has(recorded.type) || recorded.event === undefined) continue;
        const task = taskOf(recorded.event);
        const after = task === undefined ? -1 : (byTask.get(task) ?? -1);
        let index = this.matched.get(recorded);
        if (index === undefined) {
          if (recorded.t_ms > t) continue;
          index = await this.findFake(stream, fakeStream, recorded, after);
          if (index < 0) {
            this.diffs.push(
              `${stream}: no fake counterpart of recorded ${recorded.type} ${updateKey(recorded.event)} (t=${recorded.t_ms})`,
            );
            this.matched.set(recorded, -1);
            continue;
          }
          this.matched.set(recorded, index);
          const fakeRecord = fakeStream.records[index] as StreamRecord;
          learnLinks(this.ids, recorded.event, fakeRecord.event);
          this.diffs.push(
            ...compareEvent(
              `${stream} ${updateKey(recorded.event)}`,
              recorded.raw ?? '',
              fakeRecord.raw,
              this.ids,
              {
                masked: this.options.masked,
                relax: this.options.relax,
              },
            ),
          );
        }
        if (task !== undefined && index >= 0) byTask.set(task, index);
      }
    }
  }

  private async findFake(
    stream: string,
    fakeStream: EventStream,
    recorded: RecordedRecord,
    after: number,
  ): Promise<number> {
    const key = updateKey(recorded.event ?? {});
    const used = this.used.get(stream) ?? new Set<number>();
    this.used.set(stream, used);
    return vi
      .waitFor(
        () => {
          const index = fakeStream.records.findIndex(
            (r, i) => i > after && !used.has(i) && updateKey(r.event) === key,
          );
          if (index >= 0) {
            used.add(index);
            return index;
          }
          if (fakeStream.closed && fakeStream.records.length === 0) return -1;
          throw new Error(`no fake ${key} yet`);
        },
        { timeout: this.timeoutMs, interval: 10 },
      )
      .catch(() => -1);
  }

  private async compareStreamEnds(): Promise<void> {
    for (const exchange of this.transcript.exchanges) {
      const end = exchange.stream_end;
      const stream = exchange.stream === undefined ? undefined : this.streams.get(exchange.stream);
      if (end === undefined || stream === undefined) continue;
      const recorded = end.how.startsWith('eof')
        ? 'eof'
        : end.how.startsWith('aborted')
          ? 'aborted'
          : undefined;
      if (recorded === undefined) continue;
      const fake = await Promise.race([
        stream.ended,
        new Promise<string>((r) => setTimeout(() => r('still open'), this.timeoutMs)),
      ]);
      if (fake !== recorded)
        this.diffs.push(`${exchange.stream}: stream ended ${fake}, recorded ${recorded}`);
    }
  }

  /** The first OFFERS event of each stream: every recorded offer needs a fake one of the same agent and role and layout. */
  private compareFirstOffers(): void {
    for (const [stream, fakeStream] of this.streams) {
      const first = recordsOf(this.transcript, stream).find(
        (r) => r.type === 'OFFERS' && r.event !== undefined,
      );
      const offers =
        (first?.event?.offers as { offers: Array<Record<string, unknown>> } | undefined)?.offers ?? [];
      const fakeOffers = fakeStream
        .ofType('OFFERS')
        .flatMap((r) => (r.event.offers as { offers: Array<Record<string, unknown>> }).offers);
      const firstFake = fakeStream.ofType('OFFERS')[0];
      if (first?.raw !== undefined && firstFake !== undefined) {
        const missing = [...numberFormats(first.raw)].filter((f) => !numberFormats(firstFake.raw).has(f));
        if (missing.length > 0)
          this.diffs.push(`${stream}: first OFFERS lacks number formats ${missing.join(', ')}`);
      }
      for (const offer of offers) {
        const agent = this.ids.fakeOf((offer.agent_id as { value: string }).value);
        const role = JSON.stringify(offer.allocation_info ?? null);
        const counterpart = fakeOffers.find(
          (o) =>
            (o.agent_id as { value: string }).value === agent &&
            JSON.stringify(o.allocation_info ?? null) === role,
        );
        if (counterpart === undefined) {
          this.diffs.push(`${stream}: no fake offer like recorded ${JSON.stringify(offer)}`);
          continue;
        }
        this.ids.link((offer.id as { value: string }).value, (counterpart.id as { value: string }).value);
        this.diffs.push(
          ...compareEvent(
            `${stream} first offer of agent ${agent}`,
            JSON.stringify(offer),
            JSON.stringify(counterpart),
            this.ids,
          ),
        );
      }
    }
  }

  /**
   * Status updates that need acknowledging go one at a time per task: an update must not arrive
   * before the previous update of the same task was acknowledged (the recorder acknowledged at
   * once, so a real master never showed two outstanding).
   */
  private checkInOrderDelivery(): void {
    const acks = this.fake.calls({ type: 'ACKNOWLEDGE', status: 202 });
    const ackedAt = new Map<string, number>();
    for (const call of acks) {
      const uuid = String((call.body?.acknowledge as { uuid?: unknown } | undefined)?.uuid ?? '');
      if (!ackedAt.has(uuid)) ackedAt.set(uuid, call.at);
    }
    for (const [stream, fakeStream] of this.streams) {
      const previous = new Map<string, string>();
      for (const record of fakeStream.records) {
        const status = (record.event.update as { status?: Record<string, unknown> } | undefined)?.status;
        if (record.type !== 'UPDATE' || status?.uuid === undefined) continue;
        const task = (status.task_id as { value: string }).value;
        const uuid = String(status.uuid);
        const before = previous.get(task);
        if (before !== undefined && before !== uuid) {
          const acked = ackedAt.get(before);
          if (acked === undefined || acked > fakeStream.openedAt + record.at + 5) {
            this.diffs.push(
              `${stream}: ${task} ${String(status.state)} arrived before the previous update was acknowledged`,
            );
          }
        }
        previous.set(task, uuid);
      }
    }
  }

  private reportExtraEvents(): void {
    for (const [stream, fakeStream] of this.streams) {
      const used = this.used.get(stream) ?? new Set<number>();
      fakeStream.records.forEach((record, index) => {
        if (!SIGNIFICANT.has(record.type) || used.has(index)) return;
        if (this.options.allowExtra?.(stream, record) === true) return;
        this.diffs.push(
          `${stream}: fake sent ${record.type} ${updateKey(record.event)} that the real master did not`,
        );
      });
    }
  }
}
