/** Why a Mesos JSON text could not be decoded. `position` is the UTF-16 index where it failed. */
export class JsonDecodeError extends Error {
  /** Stable code for decisions; never match on the message. */
  readonly code = 'MESOS_JSON_INVALID';
  constructor(
    message: string,
    readonly position: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JsonDecodeError';
  }
}
