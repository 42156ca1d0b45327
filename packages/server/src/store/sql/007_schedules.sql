-- Schedules, retention and webhooks (issue 16). Times are ms since the epoch.

-- A definition's cron schedules. `last_tick` is the newest tick handled (fired or skipped): the
-- scheduler looks only at ticks after it, so a restart neither repeats nor forgets a tick.
CREATE TABLE schedules (
  schedule_id               text PRIMARY KEY,
  definition_id             text NOT NULL,
  cron                      text NOT NULL,
  timezone                  text NOT NULL,
  concurrency               text NOT NULL,
  starting_deadline_seconds integer,
  catch_up                  integer NOT NULL,
  paused                    boolean NOT NULL DEFAULT false,
  owner_id                  text NOT NULL,
  last_tick                 bigint NOT NULL,
  created_at                bigint NOT NULL,
  updated_at                bigint NOT NULL
);
CREATE INDEX schedules_definition ON schedules (definition_id);

-- One row per tick a schedule handled, written BEFORE its run is created: the key makes a tick
-- fire at most once, whichever replica or restart handles it. `run_id` is the run it started
-- (its idempotence key is `schedule:{schedule_id}:{tick}`), `skipped_reason` why it started none.
CREATE TABLE schedule_fires (
  schedule_id    text NOT NULL,
  tick           bigint NOT NULL,
  run_id         text,
  skipped_reason text,
  at             bigint NOT NULL,
  PRIMARY KEY (schedule_id, tick)
);
CREATE INDEX schedule_fires_run ON schedule_fires (run_id) WHERE run_id IS NOT NULL;

-- Webhooks: global (definition_id NULL) or of one definition. The delivery cursor (cursor_tx,
-- cursor_id) is the last outbox row handled, in (tx, id) order.
CREATE TABLE webhooks (
  webhook_id    text PRIMARY KEY,
  url           text NOT NULL,
  definition_id text,
  events        jsonb NOT NULL,
  secret        text NOT NULL,
  created_at    bigint NOT NULL,
  cursor_tx     bigint NOT NULL,
  cursor_id     bigint NOT NULL DEFAULT 0
);

-- Every status change of a run while a webhook may want it, written by a trigger in the same
-- transaction as the change (so nothing is lost or invented), with the run row as it became.
-- `tx` is the writing transaction: a reader takes only rows of transactions older than every one
-- still open, in (tx, id) order, so a row committed late is never skipped by a cursor.
CREATE TABLE webhook_outbox (
  id            bigserial PRIMARY KEY,
  tx            bigint NOT NULL,
  run_id        text NOT NULL,
  definition_id text NOT NULL,
  event         text NOT NULL,
  at            bigint NOT NULL,
  run           jsonb NOT NULL
);
CREATE INDEX webhook_outbox_order ON webhook_outbox (tx, id);

CREATE FUNCTION galley_webhook_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status)
     AND EXISTS (SELECT 1 FROM webhooks w
                  WHERE w.definition_id IS NULL OR w.definition_id = NEW.definition_id) THEN
    INSERT INTO webhook_outbox (tx, run_id, definition_id, event, at, run)
    VALUES (txid_current(), NEW.run_id, NEW.definition_id, 'run.' || lower(NEW.status),
            NEW.updated_at, to_jsonb(NEW));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER runs_webhook_outbox AFTER INSERT OR UPDATE OF status ON runs
  FOR EACH ROW EXECUTE FUNCTION galley_webhook_outbox();

-- Each delivery attempt of an outbox row to a webhook (the delivery log).
CREATE TABLE webhook_deliveries (
  id          bigserial PRIMARY KEY,
  webhook_id  text NOT NULL,
  outbox_id   bigint NOT NULL,
  event       text NOT NULL,
  run_id      text NOT NULL,
  attempt     integer NOT NULL,
  at          bigint NOT NULL,
  status_code integer,
  error       text,
  delivered   boolean NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Retention: the pruner reads finished runs oldest first.
CREATE INDEX runs_finished_at ON runs (finished_at) WHERE status = 'STOPPED';

-- History newest first (`ORDER BY queued_at DESC NULLS LAST, run_id DESC`, the default of
-- GET /history) reads this index in order instead of sorting every run.
CREATE INDEX runs_queued_at_desc ON runs (queued_at DESC NULLS LAST, run_id DESC);
