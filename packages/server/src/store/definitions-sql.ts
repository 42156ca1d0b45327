import type { SqlQuerier } from './sql-client.js';
import { SqlError, UNIQUE_VIOLATION } from './sql-client.js';
import type { DefinitionInput, DefinitionRecord } from '../model/records.js';
import { definitionFromRow } from './rows.js';
import { DuplicateAliasError, type DefinitionQuery, type Page } from './store.js';

// The definitions queries: one small function per statement, as graphile-worker does.

const COLUMNS =
  'alias, group_name, image, command, memory, cpu, gpu, env, ports, tags, target_cluster, owner_id, placement';

function values(d: DefinitionInput): unknown[] {
  return [
    d.alias,
    d.groupName,
    d.image,
    d.command,
    d.memory,
    d.cpu,
    d.gpu,
    JSON.stringify(d.env),
    JSON.stringify(d.ports),
    JSON.stringify(d.tags),
    d.targetCluster,
    d.ownerId,
    d.placement === undefined ? null : JSON.stringify(d.placement),
  ];
}

function aliasClash(err: unknown, alias: string): unknown {
  if (err instanceof SqlError && err.code === UNIQUE_VIOLATION)
    return new DuplicateAliasError(alias, { cause: err });
  return err;
}

export async function createDefinition(
  db: SqlQuerier,
  input: DefinitionInput,
  id: string,
  now: number,
): Promise<DefinitionRecord> {
  try {
    const { rows } = await db.query(
      `INSERT INTO definitions (definition_id, ${COLUMNS}, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING *`,
      [id, ...values(input), now],
    );
    return definitionFromRow(rows[0]!);
  } catch (err) {
    throw aliasClash(err, input.alias);
  }
}

/** The definitions whose `column` is one of `values`, by that column's value (unknown ones left out). */
export async function getDefinitions(
  db: SqlQuerier,
  column: 'definition_id' | 'alias',
  values: readonly string[],
): Promise<Map<string, DefinitionRecord>> {
  const { rows } = await db.query(`SELECT * FROM definitions WHERE ${column} = ANY($1::text[])`, [values]);
  const found = new Map<string, DefinitionRecord>();
  for (const row of rows) {
    const d = definitionFromRow(row);
    found.set(column === 'alias' ? d.alias : d.definitionId, d);
  }
  return found;
}

export async function updateDefinition(
  db: SqlQuerier,
  id: string,
  next: DefinitionInput,
  now: number,
): Promise<DefinitionRecord | null> {
  try {
    const { rows } = await db.query(
      `UPDATE definitions SET (${COLUMNS}, updated_at) = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       WHERE definition_id = $1 RETURNING *`,
      [id, ...values(next), now],
    );
    return rows[0] ? definitionFromRow(rows[0]) : null;
  } catch (err) {
    throw aliasClash(err, next.alias);
  }
}

export async function deleteDefinition(db: SqlQuerier, id: string): Promise<boolean> {
  const { rows } = await db.query(
    'DELETE FROM definitions WHERE definition_id = $1 RETURNING definition_id',
    [id],
  );
  return rows.length > 0;
}

export async function listDefinitions(db: SqlQuerier, q: DefinitionQuery): Promise<Page<DefinitionRecord>> {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of Object.entries(q.equals)) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  params.push(q.limit, q.offset);
  const { rows } = await db.query(
    `SELECT *, count(*) OVER () AS total FROM definitions ${clause}
     ORDER BY ${q.sortBy} ${q.order}, definition_id LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  let total = rows[0] ? Number(rows[0]['total']) : 0;
  if (!rows[0] && (q.offset > 0 || q.limit === 0)) {
    const c = await db.query(`SELECT count(*) AS n FROM definitions ${clause}`, params.slice(0, -2));
    total = Number(c.rows[0]!['n']);
  }
  return { total, items: rows.map(definitionFromRow) };
}

export async function listGroups(db: SqlQuerier): Promise<string[]> {
  const { rows } = await db.query<{ g: string }>(
    `SELECT group_name AS g FROM definitions WHERE group_name <> ''
     UNION SELECT DISTINCT group_name FROM runs WHERE group_name <> '' ORDER BY 1`,
  );
  return rows.map((r) => r.g);
}

export async function listTags(db: SqlQuerier): Promise<string[]> {
  const { rows } = await db.query<{ t: string }>(
    'SELECT DISTINCT jsonb_array_elements_text(tags) AS t FROM definitions ORDER BY 1',
  );
  return rows.map((r) => r.t);
}
