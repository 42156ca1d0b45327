import { DEFAULT_QUEUE } from '@galley/core';
import { listQueues } from '../queues/queues-sql.js';
import type { SqlClient } from '../store/sql-client.js';
import type { Store } from '../store/store.js';
import { ApiError } from './errors.js';

/**
 * Throws ApiError 422 naming `field` when `queue` names no queue (the default queue always exists).
 * For a definition's default queue, checked when it is stored, so a typo is refused there and not
 * at each execute. A store without SQL has no queues but the default one.
 */
export async function checkQueueExists(
  store: Store,
  queue: string | null | undefined,
  field: string,
): Promise<void> {
  if (queue === undefined || queue === null || queue === DEFAULT_QUEUE) return;
  const sql = (store as { sql?: SqlClient }).sql;
  const known = sql ? (await listQueues(sql)).map((q) => q.name) : [];
  if (!known.includes(queue))
    throw new ApiError(422, 'UNKNOWN_QUEUE', `queue "${queue}" does not exist`, {
      [field]: `is not a queue (${[DEFAULT_QUEUE, ...known].join(', ')})`,
    });
}
