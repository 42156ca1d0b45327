-- Cluster capacity per Mesos role (issue 15): every decision of the leader's capacity loop — what
-- it looked at (agents, demand, the provider group), what it decided or did (scale up, drain,
-- down, terminate, a provider or master call that failed) and why — the last ones per role kept
-- (the loop deletes older rows); and each role's state, so a restart or a failover resumes a drain
-- where it was and keeps the scale-down cooldown.

CREATE TABLE capacity_decisions (
  seq      bigserial PRIMARY KEY,
  cluster  text NOT NULL,
  role     text NOT NULL,
  at       bigint NOT NULL,
  action   text NOT NULL,               -- up, down, hold, drain step, error
  current  integer NOT NULL,            -- the group's desired capacity before
  desired  integer NOT NULL,            -- and after
  input    jsonb NOT NULL,              -- agents, demand, group (bounded)
  reason   text NOT NULL
);
CREATE INDEX capacity_decisions_role ON capacity_decisions (cluster, role, seq);

CREATE TABLE capacity_state (
  cluster            text NOT NULL,
  role               text NOT NULL,
  last_scale_down_at bigint,            -- when the last drain began (cooldown)
  drain              jsonb,             -- the drain in flight: agent, machine, instance, phase
  updated_at         bigint NOT NULL,
  PRIMARY KEY (cluster, role)
);
