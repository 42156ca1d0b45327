import type { LogChunk, LogStream } from '../backend.js';

/**
 * Reads a task's stdout/stderr from its sandbox through the agent's files API (transcript 15):
 * `GET /files/read?path=/frameworks/<fw>/executors/<task>/runs/latest/<stream>&offset=N&length=M`
 * answers `{"data": "...", "offset": N}`; a missing file is 404. A command task's executor id is
 * its task id. Cost is O(length): the agent reads only that range.
 */

/** Where a task's sandbox is. */
export interface SandboxRef {
  /** `http://host:port` of the agent. */
  agentUrl: string;
  frameworkId: string;
  /** The executor id: the task id for command tasks. */
  executorId: string;
}

/** A files API failure other than "no such file"; `code` is stable. */
export class SandboxReadError extends Error {
  override readonly name = 'SandboxReadError';
  readonly code = 'MESOS_SANDBOX_READ_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The virtual path of a file in the latest run of an executor's sandbox. */
export function sandboxPath(ref: SandboxRef, stream: LogStream): string {
  return `/frameworks/${ref.frameworkId}/executors/${ref.executorId}/runs/latest/${stream}`;
}

/**
 * The files API answers text, so a read that stops inside a multi-byte UTF-8 character ends in
 * U+FFFD. Such a trailing replacement is dropped (and re-read next time) unless the read reached
 * the end of the file, so pages join without damage.
 */
function completeText(data: string, full: boolean): string {
  return full && data.endsWith('\uFFFD') ? data.slice(0, -1) : data;
}

/**
 * Reads up to `maxBytes` from `offset`. `nextOffset` counts the bytes of the returned text, so
 * offsets stay byte offsets; `size` is known (= nextOffset) when the read stopped short of
 * `maxBytes` (the end of the file at read time), else null. A missing sandbox or file (not yet
 * created, or already garbage-collected) reads as empty.
 */
export async function readSandbox(
  ref: SandboxRef,
  stream: LogStream,
  offset: number,
  maxBytes: number,
  options: { authorization?: string; timeoutMs?: number } = {},
): Promise<LogChunk> {
  const url = new URL('/files/read', ref.agentUrl);
  url.searchParams.set('path', sandboxPath(ref, stream));
  url.searchParams.set('offset', String(offset));
  url.searchParams.set('length', String(maxBytes));
  let res: Response;
  try {
    res = await fetch(url, {
      headers: options.authorization ? { authorization: options.authorization } : {},
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (cause) {
    throw new SandboxReadError(`could not reach the agent at ${ref.agentUrl}`, { cause });
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return { data: Buffer.alloc(0), nextOffset: offset, size: null };
  }
  if (!res.ok) {
    const text = (await res.text()).trim();
    throw new SandboxReadError(`the agent's files API answered ${res.status}: ${text}`);
  }
  const body = (await res.json()) as { data?: unknown };
  const text = typeof body.data === 'string' ? body.data : '';
  const full = Buffer.byteLength(text) >= maxBytes;
  const data = Buffer.from(completeText(text, full));
  const nextOffset = offset + data.length;
  return { data, nextOffset, size: full ? null : nextOffset };
}
