/** Errors of the agent files API client. */

/** Codes of `AgentFilesError`. */
export type AgentFilesErrorCode =
  /** 404: no such file or directory (not created yet, or its sandbox was garbage-collected). */
  | 'MESOS_AGENT_FILE_NOT_FOUND'
  /** 400: the path is a directory, or the agent could not parse the path, offset or length. */
  | 'MESOS_AGENT_BAD_REQUEST'
  /** 401 or 403: the agent wants other credentials (its `--authenticate_http_readonly`). */
  | 'MESOS_AGENT_UNAUTHORIZED'
  /** Any other status, or an answer that is not the files API's JSON. */
  | 'MESOS_AGENT_FILES_FAILED'
  /** No answer: the connection failed, the request timed out or was aborted. */
  | 'MESOS_AGENT_UNREACHABLE';

/** A files API request that did not succeed. `code` is stable; the message is for people. */
export class AgentFilesError extends Error {
  override readonly name = 'AgentFilesError';
  /** True when the same request may succeed later (no answer, or a 5xx). */
  readonly temporary: boolean;
  constructor(
    readonly code: AgentFilesErrorCode,
    message: string,
    /** The endpoint that was asked, without query or credentials: `http://host:5051/files/read`. */
    readonly url: string,
    /** The HTTP status, when the agent answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.temporary = code === 'MESOS_AGENT_UNREACHABLE' || (status !== undefined && status >= 500);
  }
}

/** The error code for an HTTP status other than 200. */
export function codeOfStatus(status: number): AgentFilesErrorCode {
  if (status === 404) return 'MESOS_AGENT_FILE_NOT_FOUND';
  if (status === 400) return 'MESOS_AGENT_BAD_REQUEST';
  if (status === 401 || status === 403) return 'MESOS_AGENT_UNAUTHORIZED';
  return 'MESOS_AGENT_FILES_FAILED';
}
