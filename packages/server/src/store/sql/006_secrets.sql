-- Secrets stored by Galley (issue 14): env values `secret:NAME` resolve to them at launch. Only
-- ciphertext is kept: AES-256-GCM under the key of --secrets-key-file, a fresh 96-bit nonce per
-- write, the name as additional data (a row copied under another name does not decrypt).
-- `key_id` is a fingerprint of the key (not the key), so a server given another key says so.
CREATE TABLE secrets (
  name        text PRIMARY KEY,
  nonce       text NOT NULL,     -- base64, 12 bytes
  ciphertext  text NOT NULL,     -- base64: the encrypted value followed by the 16-byte GCM tag
  key_id      text NOT NULL,
  updated_at  bigint NOT NULL
);
