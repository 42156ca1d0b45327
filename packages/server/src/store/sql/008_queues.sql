-- Queues, array runs and dependencies (issue 16).
-- Every run is in a queue ('default' unless it named one). An array's children name their parent
-- (parent_id); `batch` holds the rest as JSON: the parent's kind, size and parallelism, a child's
-- index, and the runs a run depends on (see RunBatch in model/records.ts).
ALTER TABLE runs ADD COLUMN queue text NOT NULL DEFAULT 'default';
ALTER TABLE runs ADD COLUMN parent_id text;
ALTER TABLE runs ADD COLUMN batch jsonb;
CREATE INDEX runs_parent_id ON runs (parent_id, queued_at) WHERE parent_id IS NOT NULL;
-- The array parents still waiting for their children: the dispatch round ends them.
CREATE INDEX runs_open_arrays ON runs (cluster) WHERE status = 'QUEUED' AND (batch ->> 'kind') = 'array';

-- Named queues (the default queue exists without a row). Limits NULL = none.
CREATE TABLE queues (
  name              text PRIMARY KEY,
  priority          integer NOT NULL DEFAULT 0,
  owner_concurrency integer,
  group_concurrency integer,
  owner_cpu         integer,           -- millicores
  owner_memory      integer,           -- MB
  description       text NOT NULL DEFAULT '',
  updated_at        bigint NOT NULL
);
