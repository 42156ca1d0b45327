import { ApiError } from './errors.js';

/**
 * Where a log reader stopped: the attempt (seq, 0 = none yet) and the byte offsets reached in its
 * stdout and stderr. Sent to clients as an opaque `last_seen` token.
 */
export interface LogPosition {
  seq: number;
  stdout: number;
  stderr: number;
}

/** The opaque token of a position. */
export function encodeLogToken(p: LogPosition): string {
  return Buffer.from(`v1.${p.seq}.${p.stdout}.${p.stderr}`).toString('base64url');
}

/** The position of a token; ApiError 400 for a token this server did not make. */
export function decodeLogToken(token: string): LogPosition {
  const m = /^v1\.(\d{1,9})\.(\d{1,15})\.(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) {
    throw new ApiError(400, 'BAD_LAST_SEEN', 'last_seen is not a token this server gave', {
      'query.last_seen': 'is not a valid token',
    });
  }
  return { seq: Number(m[1]), stdout: Number(m[2]), stderr: Number(m[3]) };
}
