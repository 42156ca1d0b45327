import { type Backend, type LogChunk, type LogStream, LogUnavailableError } from '../backends/backend.js';
import type { RunRecord } from '../model/records.js';
import { attemptIdOf } from '../runs/ids.js';
import type { LogPosition } from './log-token.js';

/** One page of a run's output and the position after it. */
export interface LogPage {
  data: Buffer;
  position: LogPosition;
  /** True when this attempt had no more output at read time. */
  caughtUp: boolean;
}

/**
 * Which streams a reader wants: the program's stdout and stderr (`both`, or one of them), or
 * `executor`: the lines the backend's own executor wrote into them (Mesos' command executor), for
 * debugging, where the backend keeps them apart (`Backend.executorLogs`); empty elsewhere.
 */
export type LogSelection = 'both' | LogStream | 'executor';

/** Reads a backend's executor lines (see `Backend.executorLogs`). */
type ExecutorLogs = Required<Pick<Backend, 'executorLogs'>>;

/**
 * Reads one page (at most `maxBytes`) of a run's output from `position`: stdout, then stderr (or
 * one of them). Cost is O(maxBytes): backends do positioned reads. When the position's attempt has
 * nothing more and a later attempt exists, moves on to it. Output that cannot be read throws the
 * backend's LogUnavailableError (the API answers 502 or 503), never an empty page in its place,
 * with two exceptions: an earlier attempt's (its host failed before the retry; the page goes on
 * with the later attempts) and that of an attempt not started yet (the run is PENDING), which has
 * none yet.
 */
export async function readLogPage(
  backend: Backend | undefined,
  run: RunRecord,
  start: LogPosition | null,
  selection: LogSelection,
  maxBytes: number,
): Promise<LogPage> {
  let position = start ?? { seq: run.state.attemptCount > 0 ? 1 : 0, stdout: 0, stderr: 0 };
  if (position.seq === 0 && run.state.attemptCount > 0) position = { seq: 1, stdout: 0, stderr: 0 };
  if (!backend || position.seq === 0) return { data: Buffer.alloc(0), position, caughtUp: true };
  for (;;) {
    const page = await readAttempt(backend, run, position, selection, maxBytes);
    const later = position.seq < run.state.attemptCount;
    if (page.data.length > 0 || !page.caughtUp || !later) return page;
    position = { seq: position.seq + 1, stdout: 0, stderr: 0 };
  }
}

async function readAttempt(
  backend: Backend,
  run: RunRecord,
  position: LogPosition,
  selection: LogSelection,
  maxBytes: number,
): Promise<LogPage> {
  const ref = { runId: run.runId, attemptId: attemptIdOf(run.runId, position.seq), seq: position.seq };
  const next = { ...position };
  const parts: Buffer[] = [];
  let room = maxBytes;
  let caughtUp = true;
  const executor: ExecutorLogs | null =
    selection === 'executor' && backend.executorLogs ? (backend as ExecutorLogs) : null;
  if (selection === 'executor' && !executor) return { data: Buffer.alloc(0), position, caughtUp: true };
  for (const stream of ['stdout', 'stderr'] as const) {
    if (selection !== 'both' && selection !== 'executor' && selection !== stream) continue;
    if (room === 0) {
      caughtUp = false;
      break;
    }
    const chunk = await readChunk(backend, run, ref, stream, position[stream], room, executor);
    // Never split a UTF-8 character between two pages: a full page ends at a character boundary.
    const data =
      chunk.data.length === room ? chunk.data.subarray(0, completeUtf8Length(chunk.data)) : chunk.data;
    parts.push(data);
    room -= data.length;
    // The backend's offset, not the bytes returned: a backend may leave lines out (Mesos' executor
    // lines), and the next read starts after them.
    next[stream] = chunk.nextOffset - (chunk.data.length - data.length);
    if (data.length < chunk.data.length) {
      // The page is full up to a character boundary: stdout goes on in the next page, and stderr
      // must not start in this one (a reader would see it before the rest of stdout).
      caughtUp = false;
      break;
    }
    if (chunk.size !== null && chunk.nextOffset < chunk.size) caughtUp = false;
  }
  return { data: Buffer.concat(parts), position: next, caughtUp };
}

/** One backend read; an attempt whose output cannot be read but need not be (see readLogPage) reads as empty. */
async function readChunk(
  backend: Backend,
  run: RunRecord,
  ref: { runId: string; attemptId: string; seq: number },
  stream: LogStream,
  offset: number,
  maxBytes: number,
  executor: ExecutorLogs | null = null,
): Promise<LogChunk> {
  try {
    return await (executor
      ? executor.executorLogs(ref, stream, offset, maxBytes)
      : backend.logs(ref, stream, offset, maxBytes));
  } catch (err) {
    const earlier = ref.seq < run.state.attemptCount;
    const notStarted = run.state.status === 'PENDING' && ref.seq === run.state.attemptCount;
    if (err instanceof LogUnavailableError && (earlier || notStarted))
      return { data: Buffer.alloc(0), nextOffset: offset, size: offset };
    throw err;
  }
}

/** Length of the longest prefix of `buf` that does not end inside a UTF-8 multi-byte character. */
export function completeUtf8Length(buf: Buffer): number {
  const n = buf.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const byte = buf[n - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}
