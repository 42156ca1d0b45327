// Multi-row statements over array parameters: a batch of rows is passed as one array per column
// and read back with unnest(), so the statement's text does not depend on how many rows it
// carries. The database parses a few distinct statements instead of one per batch size, and a
// batch of any size stays within PostgreSQL's limit of 65535 parameters.

/** A column of a multi-row statement: its name, its SQL type, and its value for an item. */
export type Column<T> = readonly [name: string, type: string, value: (item: T) => unknown];

/** The names of `columns`, in order. */
export const columnNames = <T>(columns: readonly Column<T>[]): string[] => columns.map(([name]) => name);

/**
 * `unnest($k::type[], …) WITH ORDINALITY AS alias(col, …, ord)` over `items`: appends one array
 * parameter per column to `params` and answers the FROM item. `ord` is an item's position in
 * `items` (1-based), for `ORDER BY` where the order of inserted rows matters.
 */
export function unnestItems<T>(
  alias: string,
  columns: readonly Column<T>[],
  items: readonly T[],
  params: unknown[],
): string {
  const arrays = columns.map(([, type, value]) => {
    params.push(items.map(value));
    return `$${params.length}::${type}[]`;
  });
  return `unnest(${arrays.join(', ')}) WITH ORDINALITY AS ${alias}(${columnNames(columns).join(', ')}, ord)`;
}

/**
 * unnestItems over rows already turned into values: `rows[i][k]` is the value of row i for
 * `columns[k]` (name and SQL type).
 */
export function unnestValues(
  alias: string,
  columns: readonly (readonly [name: string, type: string])[],
  rows: readonly (readonly unknown[])[],
  params: unknown[],
): string {
  return unnestItems(
    alias,
    columns.map(([name, type], k): Column<readonly unknown[]> => [name, type, (row) => row[k]]),
    rows,
    params,
  );
}
