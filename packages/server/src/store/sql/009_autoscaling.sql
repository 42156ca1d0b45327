-- Pipeline autoscaling (issue 15): every decision of the leader's autoscaler — the metric read (or
-- why none could be), the count it found and the count it set, and why — the last ones per pipeline
-- kept (the autoscaler deletes older rows); and each pipeline's recent recommendations, so the
-- stabilization windows survive a restart or a failover.

CREATE TABLE autoscaling_decisions (
  seq         bigserial PRIMARY KEY,
  pipeline_id text NOT NULL,
  at          bigint NOT NULL,
  metric      double precision,          -- null when the metric could not be read
  error       text,                      -- why it could not be read (never a credential)
  current     integer NOT NULL,
  desired     integer NOT NULL,
  reason      text NOT NULL
);
CREATE INDEX autoscaling_decisions_pipeline ON autoscaling_decisions (pipeline_id, seq);

CREATE TABLE autoscaling_state (
  pipeline_id     text PRIMARY KEY,
  recommendations jsonb NOT NULL,        -- @galley/core Recommendation[] within the windows
  updated_at      bigint NOT NULL
);
