-- A task's runs by when they started (GET /history?alias=…&sort_by=started_at: the runs page with a
-- task filter, sorted by Started): an index in the list's own order, so a page reads its rows from
-- it. Without it every run of the alias was read from the table and sorted for each page (20,000 of
-- 1,000,000 at bench:scale, rows scattered over as many pages: p50 ~200 ms under load). Other
-- filter and sort pairs than the queued_at ones of migration 014 and this still sort their runs.
CREATE INDEX runs_alias_started_history ON runs (alias, started_at DESC NULLS LAST, run_id DESC);
