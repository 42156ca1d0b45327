/** RecordIO framing of the scheduler and executor event streams (spec §2). */
export {
  RecordIODecoder,
  readRecords,
  DEFAULT_MAX_RECORD_BYTES,
  type RecordIODecoderOptions,
} from './decoder.js';
export { encodeRecord, encodeRecords } from './encoder.js';
export { RecordIOError, type RecordIOErrorCode } from './errors.js';
