import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { distPath } from '../dist-paths.js';
import type { SqlClient } from './sql-client.js';

/** One numbered migration file, `NNN_name.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Where the migration files are: next to this module (copied into dist by the build), or src. */
function migrationsDir(): string {
  const here = distPath('store/sql/');
  if (existsSync(here)) return here;
  return distPath('../src/store/sql/');
}

/** Reads the migrations in version order. Throws on a badly named file or a duplicate version. */
export async function loadMigrations(dir = migrationsDir()): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Set<number>();
  const out: Migration[] = [];
  for (const file of files) {
    const m = /^(\d{3})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new Error(`migration file ${file} is not named NNN_name.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`two migrations with version ${version}`);
    seen.add(version);
    out.push({ version, name: m[2]!, sql: await readFile(`${dir}/${file}`, 'utf8') });
  }
  return out;
}

/**
 * Applies the migrations not yet applied, all in one transaction, forward only. Several servers
 * starting at once on one PostgreSQL serialize on a transaction-scoped advisory lock. Answers the
 * versions it applied.
 */
export async function migrate(client: SqlClient, migrations: Migration[]): Promise<number[]> {
  return client.transaction(async (tx) => {
    if (client.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(1424)');
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) {
      throw new Error(`the database has schema version ${newest}, newer than this server knows (${known})`);
    }
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        Date.now(),
      ]);
      done.push(m.version);
    }
    return done;
  });
}
