-- Two history pages that read far more than their rows at scale (bench:scale: 1,000,000 finished
-- runs, ~65,000 in flight), each given an index in the list's own order so a page reads its rows
-- from it:
--  - a task's runs by when they started (GET /history?alias=…&sort_by=started_at: the runs page
--    with a task filter, sorted by Started). Without it every run of the alias was read from the
--    table and sorted for each page (20,000 rows on as many pages: p50 ~200 ms under load);
--  - a group's runs of a status (?group_name=…&status=RUNNING, or STOPPED). The newest runs are the
--    ones in flight, so a group's finished runs newest first walked the newest-first index past
--    every run in flight, read from the table (65,000: 82 ms alone, 319 ms under load; RUNNING
--    32 ms); 0.05 ms with it, and its bounded total counts from it alone (2–3 ms).
-- Other filter and sort pairs than these and the queued_at ones of migration 014 still sort or walk.
CREATE INDEX runs_alias_started_history ON runs (alias, started_at DESC NULLS LAST, run_id DESC);
CREATE INDEX runs_group_status_history ON runs (group_name, status, queued_at DESC NULLS LAST, run_id DESC);
