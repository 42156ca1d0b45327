-- Where runs may be placed beyond cpu and memory (Mesos clusters): role, attribute constraints,
-- disk, container ports and a health check, as one JSON object (see RunPlacement). NULL = none.
ALTER TABLE definitions ADD COLUMN placement jsonb;
ALTER TABLE runs ADD COLUMN placement jsonb;
