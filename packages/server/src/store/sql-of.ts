import type { SqlClient } from './sql-client.js';
import type { Store } from './store.js';

/** The SQL client under a store, for feature modules with tables of their own (schedules, webhooks). */
export function sqlOf(store: Store): SqlClient {
  const sql = (store as Store & { sql?: SqlClient }).sql;
  if (!sql) throw new Error('this store has no SQL client');
  return sql;
}
