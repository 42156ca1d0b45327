import type { SqlQuerier } from '../store/sql-client.js';

/** A webhook as stored (the secret signs deliveries; the API never answers it after the create). */
export interface WebhookRecord {
  webhookId: string;
  url: string;
  definitionId: string | null;
  events: string[];
  secret: string;
  createdAt: number;
  /** The last outbox row handled, in (tx, id) order. */
  cursor: { tx: number; id: number };
}

/** One status change of a run waiting in the outbox, with the run row as it became. */
/** One outbox row: a run's status change (`run.*`, with the run row) or a pipeline event (`pipeline.*`). */
export interface OutboxEvent {
  id: number;
  tx: number;
  runId: string | null;
  definitionId: string | null;
  event: string;
  at: number;
  /** The run row as it became (run events). */
  run: Record<string, unknown> | null;
  pipelineId: string | null;
  /** The pipeline or instance as delivered (pipeline events). */
  pipeline: Record<string, unknown> | null;
}

/** One delivery attempt. */
export interface DeliveryRecord {
  webhookId: string;
  outboxId: number;
  event: string;
  runId: string | null;
  pipelineId: string | null;
  attempt: number;
  at: number;
  statusCode: number | null;
  error: string | null;
  delivered: boolean;
}

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v);
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

function webhookFromRow(r: Row): WebhookRecord {
  return {
    webhookId: String(r['webhook_id']),
    url: String(r['url']),
    definitionId: r['definition_id'] === null ? null : String(r['definition_id']),
    events: json<string[]>(r['events']),
    secret: String(r['secret']),
    createdAt: num(r['created_at']),
    cursor: { tx: num(r['cursor_tx']), id: num(r['cursor_id']) },
  };
}

/** The webhooks' queries (migration 007's tables and its outbox trigger). */
export class WebhookStore {
  constructor(private readonly db: SqlQuerier) {}

  /** Inserts a webhook whose cursor starts now: it hears of changes made from now on. */
  async create(w: Omit<WebhookRecord, 'cursor'>): Promise<WebhookRecord> {
    const { rows } = await this.db.query(
      `INSERT INTO webhooks (webhook_id, url, definition_id, events, secret, created_at, cursor_tx, cursor_id)
       VALUES ($1, $2, $3, $4, $5, $6, txid_snapshot_xmin(txid_current_snapshot()) - 1, 0) RETURNING *`,
      [w.webhookId, w.url, w.definitionId, JSON.stringify(w.events), w.secret, w.createdAt],
    );
    return webhookFromRow(rows[0]!);
  }

  async list(): Promise<WebhookRecord[]> {
    const { rows } = await this.db.query('SELECT * FROM webhooks ORDER BY created_at, webhook_id');
    return rows.map(webhookFromRow);
  }

  async get(webhookId: string): Promise<WebhookRecord | null> {
    const { rows } = await this.db.query('SELECT * FROM webhooks WHERE webhook_id = $1', [webhookId]);
    return rows[0] ? webhookFromRow(rows[0]) : null;
  }

  async delete(webhookId: string): Promise<boolean> {
    const { rows } = await this.db.query('DELETE FROM webhooks WHERE webhook_id = $1 RETURNING webhook_id', [
      webhookId,
    ]);
    await this.db.query('DELETE FROM webhook_deliveries WHERE webhook_id = $1', [webhookId]);
    return rows.length > 0;
  }

  /**
   * The next outbox rows after the webhook's cursor that it wants, oldest first: only rows of
   * transactions older than every transaction still open, so a row that commits later can never
   * land behind the cursor.
   */
  async next(w: WebhookRecord, limit: number): Promise<OutboxEvent[]> {
    const { rows } = await this.db.query(
      `SELECT * FROM webhook_outbox
        WHERE (tx, id) > ($1, $2) AND tx < txid_snapshot_xmin(txid_current_snapshot())
          AND ($3::text IS NULL OR definition_id = $3)
        ORDER BY tx, id LIMIT $4`,
      [w.cursor.tx, w.cursor.id, w.definitionId, limit],
    );
    const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
    const object = (v: unknown) => (v === null || v === undefined ? null : json<Record<string, unknown>>(v));
    return rows.map((r) => ({
      id: num(r['id']),
      tx: num(r['tx']),
      runId: text(r['run_id']),
      definitionId: text(r['definition_id']),
      event: String(r['event']),
      at: num(r['at']),
      run: object(r['run']),
      pipelineId: text(r['pipeline_id']),
      pipeline: object(r['pipeline']),
    }));
  }

  /** Moves the webhook's cursor to `event` (it was delivered, given up on, or not wanted). */
  async advance(webhookId: string, event: Pick<OutboxEvent, 'tx' | 'id'>): Promise<void> {
    await this.db.query('UPDATE webhooks SET cursor_tx = $2, cursor_id = $3 WHERE webhook_id = $1', [
      webhookId,
      event.tx,
      event.id,
    ]);
  }

  async recordDelivery(d: DeliveryRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO webhook_deliveries
         (webhook_id, outbox_id, event, run_id, pipeline_id, attempt, at, status_code, error, delivered)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        d.webhookId,
        d.outboxId,
        d.event,
        d.runId,
        d.pipelineId,
        d.attempt,
        d.at,
        d.statusCode,
        d.error,
        d.delivered,
      ],
    );
    // The log keeps the newest 1000 attempts of each webhook.
    await this.db.query(
      `DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND id <= (
         SELECT id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC OFFSET 1000 LIMIT 1)`,
      [d.webhookId],
    );
  }

  /** The newest `limit` delivery attempts of a webhook, newest first. */
  async deliveries(webhookId: string, limit: number): Promise<DeliveryRecord[]> {
    const { rows } = await this.db.query(
      'SELECT * FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2',
      [webhookId, limit],
    );
    return rows.map((r) => ({
      webhookId: String(r['webhook_id']),
      outboxId: num(r['outbox_id']),
      event: String(r['event']),
      runId: r['run_id'] === null ? null : String(r['run_id']),
      pipelineId:
        r['pipeline_id'] === null || r['pipeline_id'] === undefined ? null : String(r['pipeline_id']),
      attempt: num(r['attempt']),
      at: num(r['at']),
      statusCode: r['status_code'] === null ? null : num(r['status_code']),
      error: r['error'] === null ? null : String(r['error']),
      delivered: Boolean(r['delivered']),
    }));
  }
}
