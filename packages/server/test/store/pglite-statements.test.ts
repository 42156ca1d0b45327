import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgliteClient } from '../../src/store/pglite-client.js';
import { PgliteStatements } from '../../src/store/pglite-statements.js';
import type { SqlClient } from '../../src/store/sql-client.js';
import { SqlError, UNIQUE_VIOLATION } from '../../src/store/sql-client.js';

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0)) await c.close();
});

async function client(): Promise<SqlClient> {
  const c = await createPgliteClient(undefined);
  closing.push(c);
  await c.exec(`CREATE TABLE t (
    id text PRIMARY KEY, n bigint, ok boolean, at timestamptz, doc jsonb, tags text[], note text)`);
  return c;
}

/** The texts of the statements PostgreSQL holds prepared for this session (this query's left out). */
async function preparedTexts(c: SqlClient): Promise<string[]> {
  const { rows } = await c.query<{ statement: string }>(
    "SELECT statement FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%' ORDER BY statement",
  );
  return rows.map((r) => r.statement);
}

describe('PGlite statements run as named prepared statements', () => {
  it('read and write every type as PGlite.query does: nulls, bigints, booleans, times, JSON, arrays', async () => {
    const db = await PGlite.create();
    closing.push(db);
    const statements = new PgliteStatements(db);
    await db.exec(
      `CREATE TABLE t (id text PRIMARY KEY, n bigint, ok boolean, at timestamptz, doc jsonb, tags text[])`,
    );
    const at = new Date('2026-12-07T23:50:00.123Z');
    const insert = 'INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6) RETURNING *';
    const a = await statements.run(insert, ['a', 42n, true, at, { k: [1, 'x'] }, ['p', 'q']], false);
    const b = await db.query(insert, ['b', 7, false, at, { k: null }, []]);
    expect(a.rows).toEqual([
      // PGlite reads an int8 as a number.
      { id: 'a', n: 42, ok: true, at, doc: { k: [1, 'x'] }, tags: ['p', 'q'] },
    ]);
    expect(a.affectedRows).toBe(1);
    const select = 'SELECT * FROM t ORDER BY id';
    const ours = await statements.run(select, [], false);
    const theirs = await db.query(select);
    expect(ours.rows).toEqual(theirs.rows);
    expect(ours.fields).toEqual(theirs.fields);
    expect(ours.rows[1]).toEqual(b.rows[0]);
    const nulls = await statements.run(
      'UPDATE t SET doc = $2, tags = $3 WHERE id = $1',
      ['a', null, undefined],
      false,
    );
    expect(nulls).toMatchObject({ rows: [], affectedRows: 1 });
    expect((await db.query("SELECT doc, tags FROM t WHERE id = 'a'")).rows).toEqual([
      { doc: null, tags: null },
    ]);
  });

  it('keep a text prepared from its second run on, at most the bound, closing the least recently used', async () => {
    const db = await PGlite.create();
    closing.push(db);
    const statements = new PgliteStatements(db, 2);
    const names = async () =>
      (await db.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map(
        (r) => r.name,
      );
    const twice = async (text: string) => {
      await statements.run(text, [], false);
      await statements.run(text, [], false);
    };
    // A text run once leaves nothing prepared; the second run prepares it (galley_1) for good.
    expect((await statements.run('SELECT $1::int AS v', [0], false)).rows).toEqual([{ v: 0 }]);
    expect(await names()).toEqual([]);
    for (let i = 1; i < 5; i++)
      expect((await statements.run('SELECT $1::int AS v', [i], false)).rows).toEqual([{ v: i }]);
    expect(await names()).toEqual(['galley_1']);
    await twice('SELECT 2 AS two'); // galley_2 once, galley_3 kept
    await statements.run('SELECT $1::int AS v', [1], false); // used again: 'SELECT 2' is now the oldest
    // The least recently used ('SELECT 2', galley_3) is closed in the call that prepares the next.
    await twice('SELECT 3 AS three'); // galley_4 once, galley_5 kept
    expect(statements.size).toBe(2);
    expect(await names()).toEqual(['galley_1', 'galley_5']);
  });

  it('prepare a statement again when its table changed shape', async () => {
    const c = await client();
    await c.query("INSERT INTO t (id) VALUES ('a')");
    expect((await c.query('SELECT * FROM t')).rows[0]).not.toHaveProperty('extra');
    await c.exec('ALTER TABLE t ADD COLUMN extra int DEFAULT 7');
    expect((await c.query('SELECT * FROM t')).rows[0]).toMatchObject({ id: 'a', extra: 7 });
  });

  it('keep the SQLSTATE of a failed statement, and go on after it, inside a transaction too', async () => {
    const c = await client();
    const insert = 'INSERT INTO t (id, note) VALUES ($1, $2)';
    await c.query(insert, ['a', 'first']);
    const duplicate = await c.query(insert, ['a', 'again']).catch((err: unknown) => err);
    expect(duplicate).toBeInstanceOf(SqlError);
    expect(duplicate).toMatchObject({ code: UNIQUE_VIOLATION, constraint: 't_pkey' });
    const rolledBack = await c
      .transaction(async (tx) => {
        await tx.query(insert, ['b', 'in a transaction']);
        await tx.query(insert, ['a', 'again']);
      })
      .catch((err: unknown) => err);
    expect(rolledBack).toMatchObject({ code: UNIQUE_VIOLATION });
    const committed = await c.transaction(async (tx) => {
      await tx.query(insert, ['c', 'committed']);
      return (await tx.query<{ id: string }>('SELECT id FROM t ORDER BY id')).rows.map((r) => r.id);
    });
    expect(committed).toEqual(['a', 'c']);
    expect((await c.query('SELECT id, note FROM t ORDER BY id')).rows).toEqual([
      { id: 'a', note: 'first' },
      { id: 'c', note: 'committed' },
    ]);
    // Kept: the insert, run four times. Not kept: the selects run once, and a statement that
    // failed at its only run (its Close, after the failed Execute, was skipped: it is closed later).
    await c.query('SELECT * FROM no_such_table').catch(() => undefined);
    await c.query("INSERT INTO t (id) VALUES ('a')").catch(() => undefined);
    expect(await preparedTexts(c)).toEqual([insert]);
  });

  it('run one operation at a time in the order asked: a query waits for a transaction begun before it', async () => {
    const c = await client();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const order: string[] = [];
    const tx = c.transaction(async (q) => {
      await q.query("INSERT INTO t (id) VALUES ('in-tx')");
      order.push('tx inserted');
      await held;
      order.push('tx done');
    });
    const outside = c.query<{ n: number }>('SELECT count(*) AS n FROM t').then((r) => {
      order.push('query answered');
      return r.rows[0]!.n;
    });
    await expect.poll(() => order).toEqual(['tx inserted']);
    release();
    await tx;
    expect(await outside).toBe(1);
    expect(order).toEqual(['tx inserted', 'tx done', 'query answered']);
  });

  it('refuse statements once closed, and close twice without error', async () => {
    const c = await createPgliteClient(undefined);
    await c.close();
    await expect(c.query('SELECT 1')).rejects.toThrow('the embedded database is closed');
    await c.close();
  });
});
