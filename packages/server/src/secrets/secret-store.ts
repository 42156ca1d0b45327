import type { SqlClient } from '../store/sql-client.js';
import { keyIdOf, open, seal } from './cipher.js';

/** A Galley secret as listed: its name and when it was last set; never its value. */
export interface SecretEntry {
  name: string;
  updatedAt: number;
}

/** Largest secret value, in bytes of UTF-8 (the API refuses more with 413/422). */
export const MAX_SECRET_BYTES = 64 * 1024;
/** Most secrets Galley keeps (a bound on the table and on `GET /secrets`). */
export const MAX_SECRETS = 10_000;

/** Why a secret could not be read or written; `code` is stable, the message never holds a value. */
export class SecretStoreError extends Error {
  override readonly name = 'SecretStoreError';
  constructor(
    readonly code: 'SECRETS_NOT_CONFIGURED' | 'SECRET_NOT_FOUND' | 'SECRET_UNREADABLE' | 'TOO_MANY_SECRETS',
    message: string,
  ) {
    super(message);
  }
}

/** What the API says when no key is configured. */
export const NOT_CONFIGURED =
  'secrets are not configured: set --secrets-key-file (a file holding 32 random bytes as hex or base64)';

/**
 * Galley-stored secrets in the `secrets` table (migration 006), encrypted with AES-256-GCM under
 * the configured key (cipher.ts). Without a key every call throws SECRETS_NOT_CONFIGURED.
 */
export class SecretStore {
  constructor(
    private readonly db: SqlClient,
    private readonly key: Buffer | null,
    private readonly now: () => number,
  ) {}

  get configured(): boolean {
    return this.key !== null;
  }

  /** Creates or replaces a secret. Answers whether it existed before. */
  async set(name: string, value: string): Promise<{ created: boolean; updatedAt: number }> {
    const key = this.requireKey();
    const sealed = seal(key, name, value);
    const at = this.now();
    return this.db.transaction(async (tx) => {
      const existing = await tx.query('SELECT 1 FROM secrets WHERE name = $1', [name]);
      if (existing.rows.length === 0) {
        const { rows } = await tx.query<{ n: string | number }>('SELECT count(*) AS n FROM secrets');
        if (Number(rows[0]?.n ?? 0) >= MAX_SECRETS)
          throw new SecretStoreError('TOO_MANY_SECRETS', `Galley keeps at most ${MAX_SECRETS} secrets`);
      }
      await tx.query(
        `INSERT INTO secrets (name, nonce, ciphertext, key_id, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET nonce = $2, ciphertext = $3, key_id = $4, updated_at = $5`,
        [name, sealed.nonce, sealed.ciphertext, sealed.keyId, at],
      );
      return { created: existing.rows.length === 0, updatedAt: at };
    });
  }

  /** Names and update times, by name. */
  async list(): Promise<SecretEntry[]> {
    this.requireKey();
    const { rows } = await this.db.query<{ name: string; updated_at: string | number }>(
      'SELECT name, updated_at FROM secrets ORDER BY name LIMIT $1',
      [MAX_SECRETS],
    );
    return rows.map((r) => ({ name: r.name, updatedAt: Number(r.updated_at) }));
  }

  /** Answers whether there was such a secret. */
  async remove(name: string): Promise<boolean> {
    this.requireKey();
    const { rowCount } = await this.db.query('DELETE FROM secrets WHERE name = $1', [name]);
    return rowCount > 0;
  }

  /** The values of `names` (decrypted); throws naming the first that is missing or unreadable. */
  async read(names: readonly string[]): Promise<Map<string, string>> {
    const key = this.requireKey();
    const out = new Map<string, string>();
    if (names.length === 0) return out;
    const { rows } = await this.db.query<{ name: string; nonce: string; ciphertext: string; key_id: string }>(
      'SELECT name, nonce, ciphertext, key_id FROM secrets WHERE name = ANY($1::text[])',
      [[...new Set(names)]],
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const name of names) {
      const row = byName.get(name);
      if (!row) throw new SecretStoreError('SECRET_NOT_FOUND', `secret:${name}: no such secret is stored`);
      if (row.key_id !== keyIdOf(key))
        throw new SecretStoreError(
          'SECRET_UNREADABLE',
          `secret:${name}: it was stored under another key than --secrets-key-file gives (set it again)`,
        );
      try {
        out.set(name, open(key, name, { nonce: row.nonce, ciphertext: row.ciphertext, keyId: row.key_id }));
      } catch {
        throw new SecretStoreError('SECRET_UNREADABLE', `secret:${name}: the stored value does not decrypt`);
      }
    }
    return out;
  }

  private requireKey(): Buffer {
    if (!this.key) throw new SecretStoreError('SECRETS_NOT_CONFIGURED', NOT_CONFIGURED);
    return this.key;
  }
}
