import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SqlClient } from '../store/sql-client.js';

/** What a token carries, as listed (never the token itself, nor its hash). */
export interface ApiToken {
  tokenId: string;
  name: string;
  /** The principal the token stands for: a run's owner, the audit's "who". */
  subject: string;
  groups: string[];
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

/** The prefix of Galley API tokens: tells them from JWTs (and makes a leaked one easy to grep for). */
export const TOKEN_PREFIX = 'glt_';

/** SHA-256 of a token, hex: what the store keeps. A token has 256 random bits, so no salt is needed. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Compares two hex digests in constant time. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function tokenFromRow(r: Row): ApiToken {
  const groups = typeof r['groups'] === 'string' ? (JSON.parse(r['groups']) as unknown) : r['groups'];
  return {
    tokenId: String(r['token_id']),
    name: String(r['name']),
    subject: String(r['subject']),
    groups: Array.isArray(groups) ? groups.map(String) : [],
    createdAt: Number(r['created_at']),
    createdBy: String(r['created_by']),
    expiresAt: num(r['expires_at']),
    revokedAt: num(r['revoked_at']),
  };
}

const COLUMNS = 'token_id, name, subject, groups, created_at, created_by, expires_at, revoked_at';

/**
 * API tokens in the store. Every request looks its token up here (one indexed read): a revoke is
 * seen by every replica at its next request, with no cache to outlive it.
 */
export class TokenStore {
  constructor(private readonly db: SqlClient) {}

  /** Makes a token; answers it once with its record (only its hash is kept). */
  async create(
    input: { name: string; subject: string; groups: string[]; expiresAt: number | null; createdBy: string },
    now: number,
  ): Promise<{ token: string; record: ApiToken }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const { rows } = await this.db.query(
      `INSERT INTO api_tokens (token_id, name, subject, groups, token_hash, created_at, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        input.name,
        input.subject,
        JSON.stringify(input.groups),
        hashToken(token),
        now,
        input.createdBy,
        input.expiresAt,
      ],
    );
    return { token, record: tokenFromRow(rows[0]!) };
  }

  /** The token's record when `token` is a token this store made (revoked and expired ones too). */
  async find(token: string): Promise<ApiToken | null> {
    const hash = hashToken(token);
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS}, token_hash FROM api_tokens WHERE token_hash = $1`,
      [hash],
    );
    const row = rows[0];
    return row && sameDigest(String(row['token_hash']), hash) ? tokenFromRow(row) : null;
  }

  /** Every token, newest first (at most `limit`). */
  async list(limit: number, offset: number): Promise<{ total: number; items: ApiToken[] }> {
    const [{ rows }, count] = await Promise.all([
      this.db.query(
        `SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at DESC, token_id LIMIT $1 OFFSET $2`,
        [limit, offset],
      ),
      this.db.query<{ n: unknown }>('SELECT count(*) AS n FROM api_tokens'),
    ]);
    return { total: Number(count.rows[0]?.n ?? 0), items: rows.map(tokenFromRow) };
  }

  /** Revokes a token (at once: the next request with it is refused); null when there is no such token. */
  async revoke(tokenId: string, now: number): Promise<ApiToken | null> {
    const { rows } = await this.db.query(
      `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE token_id = $1 RETURNING ${COLUMNS}`,
      [tokenId, now],
    );
    return rows[0] ? tokenFromRow(rows[0]) : null;
  }
}
