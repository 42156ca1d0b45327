-- Webhooks hear pipeline events too (issue 16): a pipeline created, its spec changed (scaled,
-- updated, rolled back), its delete asked and done; an instance's phase changed or the instance
-- removed. Same outbox, same transaction as the change, same (tx, id) order as run events. A
-- pipeline belongs to no definition: only global webhooks (definition_id NULL) receive them.

ALTER TABLE webhook_outbox ALTER COLUMN run_id DROP NOT NULL;
ALTER TABLE webhook_outbox ALTER COLUMN definition_id DROP NOT NULL;
ALTER TABLE webhook_outbox ALTER COLUMN run DROP NOT NULL;
ALTER TABLE webhook_outbox ADD COLUMN pipeline_id text;
ALTER TABLE webhook_outbox ADD COLUMN pipeline jsonb;   -- the event's pipeline or instance, as delivered
ALTER TABLE webhook_deliveries ALTER COLUMN run_id DROP NOT NULL;
ALTER TABLE webhook_deliveries ADD COLUMN pipeline_id text;

CREATE FUNCTION galley_webhook_pipeline_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event text;
  row_ pipelines%ROWTYPE;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.definition_id IS NULL) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    row_ := OLD;
    event := 'pipeline.deleted';
  ELSE
    row_ := NEW;
    IF TG_OP = 'INSERT' THEN
      event := 'pipeline.created';
    ELSIF NEW.deleting_at IS NOT NULL AND OLD.deleting_at IS NULL THEN
      event := 'pipeline.deleting';
    ELSIF NEW.spec IS DISTINCT FROM OLD.spec OR NEW.version IS DISTINCT FROM OLD.version THEN
      event := 'pipeline.updated';
    ELSE
      RETURN NULL;
    END IF;
  END IF;
  INSERT INTO webhook_outbox (tx, pipeline_id, event, at, pipeline)
  VALUES (txid_current(), row_.pipeline_id, event, row_.updated_at,
          jsonb_build_object('pipeline_id', row_.pipeline_id, 'cluster', row_.cluster,
                             'version', row_.version, 'instances', row_.spec -> 'instances'));
  RETURN NULL;
END $$;
CREATE TRIGGER pipelines_webhook_outbox AFTER INSERT OR DELETE OR UPDATE OF spec, version, deleting_at
  ON pipelines FOR EACH ROW EXECUTE FUNCTION galley_webhook_pipeline_outbox();

CREATE FUNCTION galley_webhook_instance_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event text;
  row_ pipeline_instances%ROWTYPE;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.definition_id IS NULL) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    row_ := OLD;
    event := 'pipeline.instance.removed';
  ELSIF TG_OP = 'INSERT' OR NEW.state ->> 'phase' IS DISTINCT FROM OLD.state ->> 'phase' THEN
    row_ := NEW;
    event := 'pipeline.instance.' || (NEW.state ->> 'phase');
  ELSE
    RETURN NULL;
  END IF;
  INSERT INTO webhook_outbox (tx, pipeline_id, event, at, pipeline)
  VALUES (txid_current(), row_.pipeline_id, event, row_.updated_at,
          jsonb_build_object('pipeline_id', row_.pipeline_id, 'instance_id', row_.instance_id,
                             'phase', row_.state -> 'phase', 'version', row_.state -> 'version',
                             'restarts', row_.state -> 'restarts',
                             'unhealthy_reason', row_.state -> 'unhealthyReason',
                             'last_exit', row_.state -> 'lastExit'));
  RETURN NULL;
END $$;
CREATE TRIGGER pipeline_instances_webhook_outbox AFTER INSERT OR DELETE OR UPDATE OF state
  ON pipeline_instances FOR EACH ROW EXECUTE FUNCTION galley_webhook_instance_outbox();
