/**
 * Decoding Mesos JSON (spec §0, §9.17). Mesos writes doubles that are not finite as bare
 * `Infinity`/`-Infinity`/`NaN` and int64 values as JSON numbers even beyond 2^53, both of which
 * `JSON.parse` gets wrong (a SyntaxError, or silently lost digits).
 *
 * Contract of the result: standard JSON values, except that
 * - a bare `Infinity`, `-Infinity` or `NaN` becomes that JS number;
 * - an integer (no fraction, no exponent) outside ±`Number.MAX_SAFE_INTEGER` becomes a `bigint`
 *   with every digit kept (this is how the `Int64` type of ./types is filled).
 *
 * Speed: the common case costs one `JSON.parse` plus a skip scan for a run of 16 or more digits
 * (./digit-run.ts, about one byte in sixteen looked at); only when the scan hits (a large
 * integer, or a long digit run inside a string) or `JSON.parse` throws does the slower tolerant
 * parser run.
 */
import { Buffer } from 'node:buffer';
import { hasLongDigitRun, hasLongDigitRunInBytes } from './digit-run.js';
import { JsonDecodeError } from './errors.js';
import { LARGE_RECORD_BYTES, decodeLargeOffers } from './large-offers.js';
import { parseTolerant } from './tolerant-parser.js';

/** Decodes one Mesos JSON text. Throws `JsonDecodeError` when it is not (tolerant) JSON. */
export function decodeJson(text: string): unknown {
  return decodeText(text, hasLongDigitRun(text));
}

function decodeText(text: string, mayHoldUnsafeInteger: boolean): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return parseTolerant(text);
  }
  return mayHoldUnsafeInteger ? parseTolerant(text) : value;
}

/**
 * Decodes one Mesos JSON record given as UTF-8 bytes (for example a RecordIO record). The bytes
 * are decoded to text once; invalid UTF-8 sequences become U+FFFD. Large OFFERS records are
 * decoded in per-offer slices (./large-offers.ts), with the same result.
 */
export function decodeJsonBytes(bytes: Uint8Array): unknown {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const unsafe = hasLongDigitRunInBytes(buffer);
  if (!unsafe && buffer.length >= LARGE_RECORD_BYTES) {
    const offers = decodeLargeOffers(buffer);
    if (offers !== undefined) return offers;
  }
  return decodeText(buffer.toString('utf8'), unsafe);
}

export { JsonDecodeError };
