-- Authentication and audit (issue 14). API tokens are kept as the SHA-256 of the token (never the
-- token itself); a revoked token keeps its row (revoked_at) so the audit can still name it.
CREATE TABLE api_tokens (
  token_id    text PRIMARY KEY,
  name        text NOT NULL,
  subject     text NOT NULL,
  groups      jsonb NOT NULL DEFAULT '[]',
  token_hash  text NOT NULL UNIQUE,
  created_at  bigint NOT NULL,
  created_by  text NOT NULL,
  expires_at  bigint,
  revoked_at  bigint
);

-- Every mutating request, allowed or refused: who, what (method, route and its ids), when, from
-- where, and the answer's status.
CREATE TABLE audit_log (
  audit_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        bigint NOT NULL,
  subject   text,
  method    text NOT NULL,
  route     text NOT NULL,
  path      text NOT NULL,
  ids       jsonb NOT NULL DEFAULT '{}',
  ip        text NOT NULL,
  status    integer NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_subject_at ON audit_log (subject, at);
