/**
 * The columns runs and definitions can be sorted by: the one list the API's schemas (`sort_by`),
 * the store's queries and the web's history page all take, so a column added here is accepted,
 * sorted on and offered everywhere at once. Here, in model/, because the store may not import the
 * API and the web may import nothing of the server but `@galley/server/api` (which re-exports
 * these); it imports nothing, so the web bundles these lines and no schema with them.
 */

/** Sortable run columns. */
export const RUN_SORT_FIELDS = [
  'queued_at',
  'started_at',
  'finished_at',
  'status',
  'alias',
  'group_name',
  'owner_id',
  'cluster',
  'exit_code',
  'run_id',
] as const;
export type RunSortField = (typeof RUN_SORT_FIELDS)[number];

/** Sortable definition columns. */
export const DEFINITION_SORT_FIELDS = ['alias', 'group_name', 'image', 'created_at', 'updated_at'] as const;
export type DefinitionSortField = (typeof DEFINITION_SORT_FIELDS)[number];
