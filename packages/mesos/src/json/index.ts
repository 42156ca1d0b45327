/** Tolerant Mesos JSON: decode bare Infinity/NaN and exact int64, encode them back. */
export { decodeJson, decodeJsonBytes, JsonDecodeError } from './decode.js';
export { encodeJson } from './encode.js';
