/**
 * Encoding calls as Mesos JSON (spec §0). Mesos parses int64 from a JSON number or from a
 * numeric string (the string form exactly), and doubles from a number or the strings
 * `"Infinity"`/`"-Infinity"`. So, compared with `JSON.stringify`:
 * - a `bigint` is written as a number when it is a safe integer, else as a decimal string;
 * - a non-finite number is written as the string `"Infinity"`, `"-Infinity"` or `"NaN"`
 *   (`JSON.stringify` would write `null`, which Mesos reads as "field not set");
 * - `null` object members are left out (Mesos treats them as unset anyway).
 * Plain data is stringified once; only values containing one of the above take a second pass.
 */

/** Serializes `value` to Mesos JSON as described above. */
export function encodeJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(value, mesosReplacer);
  }
  if (text === undefined) throw new TypeError('encodeJson: value has no JSON representation');
  // JSON.stringify writes `null` for null, NaN and ±Infinity: re-encode to tell them apart.
  if (text.includes('null')) return JSON.stringify(value, mesosReplacer);
  return text;
}

function mesosReplacer(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  if (value === null && key !== '' && !Array.isArray(this)) return undefined;
  return value;
}
