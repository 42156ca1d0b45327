import { AgentFilesError, createAgentFilesClient, executorSandboxPath } from '@galley/mesos';
import { type LogChunk, type LogStream, LogUnavailableError } from '../backend.js';
import { splitWindow, type LinePart } from './executor-lines.js';

/**
 * Reads a task's stdout/stderr from its sandbox through the agent's files API, with the SDK's
 * client (`AgentFilesClient.readPage`: byte offsets, pages that never end inside a UTF-8
 * character). A command task's executor id is its task id. Cost is O(length): the agent reads
 * only that range.
 */

/** Where a task's sandbox is. */
export interface SandboxRef {
  /** `http://host:port` of the agent. */
  agentUrl: string;
  frameworkId: string;
  /** The executor id: the task id for command tasks. */
  executorId: string;
  /** Where the task's files are in the executor's sandbox (a shared galley-executor's `tasks/<id>`); absent = at its root. */
  taskDir?: string;
}

/** A files API failure other than "no such file": the agent failed (the API answers 502). */
export class SandboxReadError extends LogUnavailableError {
  override readonly name = 'SandboxReadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('host-failed', message, options);
  }
}

/** An attempt whose sandbox cannot be located: its agent is not known (the API answers 503). */
export const sandboxNotLocated = (attemptId: string) =>
  new LogUnavailableError(
    'not-here',
    `the sandbox of attempt ${attemptId} cannot be located: the agent that ran it is not known to this framework (gone, or not seen since the server started)`,
  );

/** The virtual path of a file in the latest run of an executor's sandbox. */
export function sandboxPath(ref: SandboxRef, stream: LogStream): string {
  return executorSandboxPath(
    ref.frameworkId,
    ref.executorId,
    ref.taskDir ? `${ref.taskDir}/${stream}` : stream,
  );
}

/**
 * Reads up to `maxBytes` from `offset`. `nextOffset` counts the bytes of the returned text, so
 * offsets stay byte offsets; `size` is known (= nextOffset) when the read stopped short of
 * `maxBytes` (the end of the file at read time), else null. A missing sandbox or file (not yet
 * created, or already garbage-collected) reads as empty; any other failure is a SandboxReadError
 * whose `cause` is the SDK's AgentFilesError.
 */
export async function readSandbox(
  ref: SandboxRef,
  stream: LogStream,
  offset: number,
  maxBytes: number,
  options: { authorization?: string; timeoutMs?: number } = {},
): Promise<LogChunk> {
  const files = createAgentFilesClient({
    agent: ref.agentUrl,
    ...(options.authorization ? { authorization: options.authorization } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  try {
    const page = await files.readPage(sandboxPath(ref, stream), offset, maxBytes);
    return { data: page.data, nextOffset: page.nextOffset, size: page.end ? page.nextOffset : null };
  } catch (error) {
    if (error instanceof AgentFilesError && error.code === 'MESOS_AGENT_FILE_NOT_FOUND') {
      return { data: Buffer.alloc(0), nextOffset: offset, size: null };
    }
    const message =
      error instanceof AgentFilesError && error.code === 'MESOS_AGENT_UNREACHABLE'
        ? `could not reach the agent at ${ref.agentUrl}: ${error.message}`
        : `the agent's files API failed: ${(error as Error).message}`;
    throw new SandboxReadError(message, { cause: error });
  }
}

/** Bytes read before the offset, so the line the offset falls in is classified from its start. */
const CONTEXT_BYTES = 4096;
/** Bytes read past the offset at least: whole lines are needed to tell whose they are. */
const MIN_WINDOW_BYTES = 16_384;
/** Most bytes one read looks through for lines of the part asked for before it answers. */
const MAX_SCAN_BYTES = 1 << 20;

/**
 * Reads up to `maxBytes` of one part of a sandbox file from `offset` (`executor-lines.ts`): the
 * program's output (`program`: what a run's log shows) or the command executor's own lines
 * (`executor`). Offsets stay byte offsets of the file: `nextOffset` is where the next read of the
 * same part starts, after the lines skipped; `size` is `nextOffset` once the end of the file was
 * reached (a last line that may still become an executor line waits for its newline), else null.
 * Reads whole lines from the agent, a window at a time; errors as `readSandbox`.
 */
export async function readSandboxPart(
  ref: SandboxRef,
  stream: LogStream,
  offset: number,
  maxBytes: number,
  part: LinePart,
  options: { authorization?: string; timeoutMs?: number } = {},
): Promise<LogChunk> {
  return readPart((at, length) => readSandbox(ref, stream, at, length, options), offset, maxBytes, part);
}

/** `readSandboxPart` on any positioned reader of the file (`size` non-null = the end was reached). */
export async function readPart(
  read: (offset: number, maxBytes: number) => Promise<LogChunk>,
  offset: number,
  maxBytes: number,
  part: LinePart,
): Promise<LogChunk> {
  const pieces: Buffer[] = [];
  let position = offset;
  let room = maxBytes;
  for (;;) {
    const windowStart = Math.max(0, position - CONTEXT_BYTES);
    const ahead = Math.max(room, MIN_WINDOW_BYTES);
    const chunk = await read(windowStart, position - windowStart + ahead);
    const atEnd = chunk.size !== null;
    if (chunk.data.length <= position - windowStart) {
      return { data: Buffer.concat(pieces), nextOffset: position, size: atEnd ? position : null };
    }
    const split = splitWindow(chunk.data, windowStart, position, room, part, atEnd);
    for (const r of split.kept) {
      pieces.push(chunk.data.subarray(r.start - windowStart, r.end - windowStart));
      room -= r.end - r.start;
    }
    const moved = split.nextOffset > position;
    position = split.nextOffset;
    const data = Buffer.concat(pieces);
    if (atEnd) return { data, nextOffset: position, size: position };
    if (room === 0 || data.length > 0 || !moved || position - offset >= MAX_SCAN_BYTES)
      return { data, nextOffset: position, size: null };
  }
}
