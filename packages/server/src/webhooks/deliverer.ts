import { createHmac } from 'node:crypto';
import { backoffDelayMs } from '@galley/core';
import type { Logger } from 'pino';
import { presentRun } from '../api/present.js';
import type { Clock } from '../clock.js';
import { runFromRow } from '../store/rows.js';
import type { OutboxEvent, WebhookRecord, WebhookStore } from './webhooks-sql.js';

/** Delivery retries: 1 s, 2 s, 4 s … at most 5 minutes apart. */
export const DELIVERY_BACKOFF = { initialDelayMs: 1000, factor: 2, maxDelayMs: 300_000 };
/** Attempts of one event before it is given up (logged) and the next one is delivered. */
export const MAX_DELIVERY_ATTEMPTS = 10;
/** How long a receiver has to answer. */
const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * `sha256=<hex>`: HMAC-SHA256 with the webhook's secret over `<timestamp>.<body>` (the timestamp
 * is the `X-Galley-Timestamp` header, Unix seconds), so a receiver can refuse replays.
 */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * The JSON a webhook receives: the event, its sequence number, and the run as the API answers it
 * (`run.*`) or the pipeline or instance (`pipeline.*`).
 */
export function deliveryBody(webhookId: string, e: OutboxEvent): string {
  return JSON.stringify({
    event: e.event,
    sequence: e.id,
    webhook_id: webhookId,
    at: new Date(e.at).toISOString(),
    ...(e.run ? { run: presentRun(runFromRow(e.run)) } : { pipeline: e.pipeline }),
  });
}

/** What the deliverer works with. */
export interface DelivererOptions {
  webhooks: WebhookStore;
  clock: Clock;
  logger: Logger;
  /** Only the leader delivers. */
  isLeader: () => boolean;
  /** Time between looks at the outbox when nothing woke it (default 1000 ms). */
  pollMs?: number;
}

/**
 * Delivers the outbox to each webhook, in order, one event at a time per webhook (webhooks
 * independently of each other). A failed delivery (not 2xx, or no answer) is retried with
 * exponential backoff; after MAX_DELIVERY_ATTEMPTS the event is given up and the next one goes.
 * The cursor moves only after an event is handled, and it is in the store: a restart or a new
 * leader carries on where it was (an event delivered just before a crash may be delivered again:
 * receivers dedupe by `sequence`).
 */
export class WebhookDeliverer {
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private running: Promise<void> | null = null;
  private again = false;
  /** Per webhook: the event being retried, its attempts so far and when it may go again. */
  private readonly retrying = new Map<string, { outboxId: number; attempts: number; notBefore: number }>();
  /** Webhooks the last pass found (-1 = none yet): with none, run changes wake nothing (the poll finds new ones). */
  private known = -1;

  constructor(private readonly o: DelivererOptions) {}

  start(): void {
    this.wake();
  }

  /** A run changed: its status change may be in the outbox (nothing to do while no webhook exists). */
  changed(): void {
    if (this.known !== 0) this.wake();
  }

  /** Looks at the outbox soon (several wakes make one pass). */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.pass()
      .catch((err: unknown) => this.o.logger.warn({ err }, 'webhooks: a delivery pass failed'))
      .finally(() => {
        this.running = null;
        if (this.closed) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          this.timer = setTimeout(() => this.wake(), this.o.pollMs ?? 1000);
          this.timer.unref();
        }
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async pass(): Promise<void> {
    if (!this.o.isLeader()) return;
    const hooks = await this.o.webhooks.list();
    this.known = hooks.length;
    await Promise.all(hooks.map((w) => this.drain(w)));
  }

  /** Delivers a webhook's pending events in order until one fails or none is left. */
  private async drain(w: WebhookRecord): Promise<void> {
    for (let rounds = 0; rounds < 10 && !this.closed; rounds++) {
      const events = await this.o.webhooks.next(w, 100);
      if (events.length === 0) return;
      for (const e of events) {
        if (!this.o.isLeader() || this.closed) return;
        if (w.events.includes(e.event) && !(await this.deliver(w, e))) return;
        await this.o.webhooks.advance(w.webhookId, e);
        w.cursor = { tx: e.tx, id: e.id };
      }
    }
  }

  /** One attempt at `e`; true when it is handled (delivered or given up), false to retry later. */
  private async deliver(w: WebhookRecord, e: OutboxEvent): Promise<boolean> {
    const now = this.o.clock.now();
    let state = this.retrying.get(w.webhookId);
    if (state && state.outboxId !== e.id) state = undefined;
    if (state && now < state.notBefore) return false;
    const attempt = (state?.attempts ?? 0) + 1;
    const body = deliveryBody(w.webhookId, e);
    const timestamp = String(Math.floor(now / 1000));
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(w.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Galley-Webhook',
          'x-galley-event': e.event,
          'x-galley-delivery': `${w.webhookId}:${e.id}`,
          'x-galley-timestamp': timestamp,
          'x-galley-signature': signature(w.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        redirect: 'manual',
      });
      statusCode = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status > 299) error = `the receiver answered HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const delivered = error === null;
    await this.o.webhooks.recordDelivery({
      webhookId: w.webhookId,
      outboxId: e.id,
      event: e.event,
      runId: e.runId,
      pipelineId: e.pipelineId,
      attempt,
      at: now,
      statusCode,
      error,
      delivered,
    });
    if (delivered || attempt >= MAX_DELIVERY_ATTEMPTS) {
      this.retrying.delete(w.webhookId);
      if (!delivered)
        this.o.logger.warn({ webhookId: w.webhookId, sequence: e.id, error }, 'webhooks: gave up an event');
      return true;
    }
    const delay = backoffDelayMs(DELIVERY_BACKOFF, attempt);
    this.retrying.set(w.webhookId, { outboxId: e.id, attempts: attempt, notBefore: now + delay });
    const timer = setTimeout(() => this.wake(), delay);
    timer.unref();
    return false;
  }
}
