-- Runs are the store's hot table: each is written three or four times on its way to RUNNING, and
-- until a VACUUM its old row versions stay in the indexes and its pages are not all-visible, so
-- history counts and pages read the table for them (bench:scale, 100,000 runs in flight beside
-- 1,000,000 finished: history p99 119 ms right after the fill, 52 ms once vacuumed). PostgreSQL's
-- default waits for 20 % of the table to change (220,000 rows there) before autovacuum comes;
-- 1 % keeps the in-flight runs' pages clean while they are in flight. (PGlite runs no autovacuum:
-- the setting is kept and has no effect there.)
ALTER TABLE runs SET (
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_insert_scale_factor = 0.01,
  autovacuum_analyze_scale_factor = 0.01
);
