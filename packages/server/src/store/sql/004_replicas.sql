-- Several replicas on one PostgreSQL (issue 13): who leads and since when, the PostgreSQL session
-- of the holder (its end frees the lease at once: a leader whose process died is not waited
-- for), every epoch ever handed out, and where each replica answers HTTP (for log proxying).

ALTER TABLE leases ADD COLUMN since bigint NOT NULL DEFAULT 0;  -- when the current epoch began
ALTER TABLE leases ADD COLUMN session_pid integer;              -- pg_backend_pid() of the holder's lease session
ALTER TABLE leases ADD COLUMN session_start double precision;   -- and that session's backend_start (epoch seconds)

-- One row per epoch ever handed out: which holder had it and from when (the audit of fencing).
CREATE TABLE lease_history (
  name        text NOT NULL,
  epoch       bigint NOT NULL,
  holder      text NOT NULL,
  acquired_at bigint NOT NULL,
  PRIMARY KEY (name, epoch)
);

-- The server replicas: their host (where their local runs ran) and HTTP address, refreshed while
-- they live (`seen_at`), removed when they stop.
CREATE TABLE replicas (
  replica_id text PRIMARY KEY,
  host       text NOT NULL,
  url        text,
  started_at bigint NOT NULL,
  seen_at    bigint NOT NULL
);
