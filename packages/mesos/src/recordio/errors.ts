/** Stable codes of `RecordIOError`. */
export type RecordIOErrorCode =
  /** The size header is empty or holds something other than ASCII digits: framing is lost. */
  | 'RECORDIO_INVALID_HEADER'
  /** The size header announces more than the decoder's `maxRecordBytes`. */
  | 'RECORDIO_RECORD_TOO_LARGE'
  /** The stream ended inside a size header or a record. */
  | 'RECORDIO_TRUNCATED';

/**
 * A RecordIO stream cannot be read any further. Every RecordIO error is fatal for its stream
 * (`fatal` is always true): close the connection and start a new one (resubscribe).
 */
export class RecordIOError extends Error {
  readonly fatal = true;
  constructor(
    readonly code: RecordIOErrorCode,
    message: string,
    /** Byte offset in the whole stream where the problem was found. */
    readonly streamOffset: number,
  ) {
    super(message);
    this.name = 'RecordIOError';
  }
}
