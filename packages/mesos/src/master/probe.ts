/**
 * Asking one master who leads: `GET /redirect` answers 307 with `Location: //<leader>:<port>`
 * (spec §1.7), or 503 when that master knows no leader.
 */
import http from 'node:http';
import https from 'node:https';
import type { TlsOptions } from '../http/client.js';
import { resolveLeaderLocation } from '../http/location.js';

/** What one probe found. */
export type ProbeResult =
  /** The master named the leader (possibly itself). */
  | { kind: 'leader'; url: URL }
  /** The master answered but named no leader (e.g. no /redirect route): try it directly. */
  | { kind: 'reachable'; url: URL; status: number }
  /** The master knows no leader (503). */
  | { kind: 'no-leader'; url: URL }
  /** No answer. */
  | { kind: 'unreachable'; url: URL; error: Error };

/** Options of `probeLeader`. */
export interface ProbeOptions {
  tls?: TlsOptions;
  /** Give up on one master after this many ms. Default 5000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Sends `GET /redirect` to the master at `base` (a base URL) and classifies the answer. */
export function probeLeader(base: URL, options: ProbeOptions = {}): Promise<ProbeResult> {
  const target = new URL('/redirect', base);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const request = transport.request(target, {
      method: 'GET',
      agent: false,
      timeout: options.timeoutMs ?? 5000,
      signal: options.signal,
      ...(target.protocol === 'https:' ? options.tls : {}),
    });
    request.on('timeout', () =>
      request.destroy(new Error(`no answer within ${options.timeoutMs ?? 5000} ms`)),
    );
    request.on('error', (error) => resolve({ kind: 'unreachable', url: base, error }));
    request.on('response', (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status === 307 && typeof location === 'string') {
        resolve({ kind: 'leader', url: resolveLeaderLocation(location, base) });
      } else if (status === 503) {
        resolve({ kind: 'no-leader', url: base });
      } else {
        resolve({ kind: 'reachable', url: base, status });
      }
    });
    request.end();
  });
}
