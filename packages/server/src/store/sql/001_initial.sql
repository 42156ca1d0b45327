-- Galley's first schema. Times are milliseconds since the epoch (bigint); JSON columns are jsonb.
-- Forward-only: a later change is a new numbered file, never an edit of this one.

CREATE TABLE definitions (
  definition_id  text PRIMARY KEY,
  alias          text NOT NULL UNIQUE,
  group_name     text NOT NULL DEFAULT '',
  image          text NOT NULL DEFAULT '',
  command        text NOT NULL DEFAULT '',
  memory         integer NOT NULL,
  cpu            integer NOT NULL,
  gpu            integer NOT NULL DEFAULT 0,
  env            jsonb NOT NULL DEFAULT '[]',
  ports          jsonb NOT NULL DEFAULT '[]',
  tags           jsonb NOT NULL DEFAULT '[]',
  target_cluster text,
  owner_id       text,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL
);
CREATE INDEX definitions_group_name ON definitions (group_name);

-- One row per request to run a definition; the columns mirror @galley/core's RunState.
CREATE TABLE runs (
  run_id            text PRIMARY KEY,
  definition_id     text NOT NULL,
  alias             text NOT NULL,
  group_name        text NOT NULL DEFAULT '',
  image             text NOT NULL DEFAULT '',
  command           text NOT NULL,
  cluster           text NOT NULL,
  engine            text NOT NULL,
  owner_id          text NOT NULL,
  env               jsonb NOT NULL DEFAULT '[]',
  memory            integer NOT NULL,
  cpu               integer NOT NULL,
  gpu               integer NOT NULL DEFAULT 0,
  description       text,
  idempotence_key   text,
  active_deadline_seconds integer,
  pipeline_id       text,
  status            text NOT NULL,
  attempt_count     integer NOT NULL DEFAULT 0,
  attempt_id        text,
  attempt_ids       jsonb NOT NULL DEFAULT '[]',
  exit_code         integer,
  exit_reason       text,
  queued_reason     text,
  queued_at         bigint NOT NULL,
  started_at        bigint,
  finished_at       bigint,
  stop_requested_at bigint,
  retry_at          bigint,
  instance_id       text,
  dns_name          text,
  run_exceptions    jsonb,
  max_memory_used   integer,
  max_cpu_used      integer,
  version           bigint NOT NULL DEFAULT 1,
  updated_at        bigint NOT NULL
);
CREATE UNIQUE INDEX runs_idempotence_key ON runs (idempotence_key) WHERE idempotence_key IS NOT NULL;
CREATE INDEX runs_status_queued_at ON runs (status, queued_at);
CREATE INDEX runs_alias_queued_at ON runs (alias, queued_at);
CREATE INDEX runs_definition_queued_at ON runs (definition_id, queued_at);
CREATE INDEX runs_group_queued_at ON runs (group_name, queued_at);
CREATE INDEX runs_owner_queued_at ON runs (owner_id, queued_at);
CREATE INDEX runs_queued_at ON runs (queued_at);
CREATE INDEX runs_retry_at ON runs (retry_at) WHERE status = 'NEEDS_RETRY';

-- One row per launch of a run on a backend. Written BEFORE the backend sees the launch
-- (write-ahead), with the fencing epoch of the scheduler that decided it.
CREATE TABLE attempts (
  attempt_id  text PRIMARY KEY,
  run_id      text NOT NULL REFERENCES runs (run_id),
  seq         integer NOT NULL,
  cluster     text NOT NULL,
  node_id     text,
  epoch       bigint NOT NULL,
  state       text NOT NULL,           -- launching | launched | running | ended
  handle      jsonb,                   -- backend data (local: pid, process start time)
  outcome     jsonb,                   -- @galley/core AttemptOutcome once ended
  created_at  bigint NOT NULL,
  launched_at bigint,
  ended_at    bigint,
  UNIQUE (run_id, seq)
);
CREATE INDEX attempts_in_flight ON attempts (cluster) WHERE state <> 'ended';

-- The timeline of each run: every status change with its time and reason.
CREATE TABLE run_events (
  id         bigserial PRIMARY KEY,
  run_id     text NOT NULL,
  at         bigint NOT NULL,
  type       text NOT NULL,
  status     text NOT NULL,
  attempt_id text,
  reason     text
);
CREATE INDEX run_events_run ON run_events (run_id, id);

-- Mesos framework ids, one per configured cluster, so a restarted scheduler re-subscribes as itself.
CREATE TABLE framework_ids (
  cluster      text PRIMARY KEY,
  framework_id text NOT NULL,
  updated_at   bigint NOT NULL
);

-- Named leases for leader election between server replicas. `epoch` only ever grows: it is the
-- fencing token written with every launch intent.
CREATE TABLE leases (
  name       text PRIMARY KEY,
  holder     text NOT NULL,
  epoch      bigint NOT NULL,
  expires_at bigint NOT NULL
);
