-- Pipelines (Faustian's long-running worker groups): the pipeline with its current spec, every
-- spec version (an instance runs its own version; a rollback returns to an older one), the
-- instances with their @galley/core InstanceState and current launch, and the history of updates.
-- Written by the leader's pipeline controller; an instance's launch is recorded BEFORE the backend
-- sees it (write-ahead), with the fencing epoch of the leader that decided it.

CREATE TABLE pipelines (
  pipeline_id  text PRIMARY KEY,
  uid          text NOT NULL,           -- per creation: launch and task ids stay unique across re-creations
  cluster      text NOT NULL,
  spec         jsonb NOT NULL,          -- the current complete spec (instances and update_strategy included)
  version      integer NOT NULL,        -- the current spec version
  instance_seq integer NOT NULL DEFAULT 0,
  update_state jsonb,                   -- the last @galley/core PipelineUpdate (active or finished)
  update_seq   integer NOT NULL DEFAULT 0,
  deleting_at  bigint,                  -- delete requested: instances are being stopped
  created_at   bigint NOT NULL,
  updated_at   bigint NOT NULL
);

CREATE TABLE pipeline_versions (
  pipeline_id text NOT NULL REFERENCES pipelines (pipeline_id) ON DELETE CASCADE,
  version     integer NOT NULL,
  spec        jsonb NOT NULL,
  created_at  bigint NOT NULL,
  PRIMARY KEY (pipeline_id, version)
);

CREATE TABLE pipeline_instances (
  instance_id text PRIMARY KEY,
  pipeline_id text NOT NULL REFERENCES pipelines (pipeline_id) ON DELETE CASCADE,
  state       jsonb NOT NULL,           -- @galley/core InstanceState
  launch      jsonb,                    -- the current launch: id, epoch, placement, each process's status
  updated_at  bigint NOT NULL
);
CREATE INDEX pipeline_instances_pipeline ON pipeline_instances (pipeline_id);

CREATE TABLE pipeline_updates (
  pipeline_id text NOT NULL REFERENCES pipelines (pipeline_id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  record      jsonb NOT NULL,           -- @galley/core PipelineUpdate
  PRIMARY KEY (pipeline_id, seq)
);
