import { encodeRecord } from '../../recordio/index.js';

/**
 * JSON as Mesos writes it: doubles with a fractional part even when whole (`2.0`, `15.0`),
 * 64-bit integers beyond 2^53 as exact digits, and RecordIO framing (`<bytes>\n<record>`).
 *
 * Build event objects with the fields in `.proto` declaration order (that is the order Mesos
 * writes them in) and pass them through `encodeMesosJson`.
 */

/** Field names whose numbers are protobuf `double`s (Mesos writes `4096.0`, not `4096`). */
const DOUBLE_FIELDS = [
  'value',
  'timestamp',
  'heartbeat_interval_seconds',
  'failover_timeout',
  'refuse_seconds',
  'delay_seconds',
  'interval_seconds',
  'timeout_seconds',
  'grace_period_seconds',
  'cpus',
  'mem',
  'disk',
  'gpus',
  'mtime',
  'start_time',
  'registered_time',
  'reregistered_time',
  'unregistered_time',
  'build_time',
];

const DOUBLE_PATTERN = new RegExp(`"(${DOUBLE_FIELDS.join('|')})":(-?\\d+)(?=[,}\\]])`, 'g');
const INT64_MARK = '\u0000int64:';
const INT64_PATTERN = /"\\u0000int64:(-?\d+)"/g;

/**
 * Marks a 64-bit integer so `encodeMesosJson` writes it as a bare number with every digit
 * (e.g. `unreachable_time.nanoseconds`). The result is a string placeholder; only pass it to
 * `encodeMesosJson`.
 */
export function int64(value: bigint): string {
  return `${INT64_MARK}${value.toString()}`;
}

/** Serializes like Mesos' jsonify: whole doubles get `.0`, int64 placeholders become digits. */
export function encodeMesosJson(value: unknown): string {
  const text = JSON.stringify(value).replace(DOUBLE_PATTERN, '"$1":$2.0');
  // Few events carry an int64 placeholder: skip the second pass when there is none.
  return text.includes('\\u0000int64:') ? text.replace(INT64_PATTERN, '$1') : text;
}

/** One RecordIO record: the payload's UTF-8 byte length, a line feed, the payload. */
export function recordioFrame(payload: string): Buffer {
  return encodeRecord(payload);
}

/** The same record as a string (cheaper to write on a stream than a Buffer). */
export function recordioText(payload: string): string {
  return `${Buffer.byteLength(payload)}\n${payload}`;
}

/**
 * Formats a double the way C++ `ostream << double` does with the default precision (6
 * significant digits, `%g` style): `100`, `0.1`, `4096`, `1e+300`, `1.5e+10`.
 */
export function formatCppDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return '0';
  const exponential = value.toExponential(5); // 6 significant digits
  const [mantissa, exponentText] = exponential.split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const trimmed = trimZeros(mantissa);
    const sign = exponent < 0 ? '-' : '+';
    const digits = String(Math.abs(exponent)).padStart(2, '0');
    return `${trimmed}e${sign}${digits}`;
  }
  return trimZeros(value.toFixed(Math.max(0, 5 - exponent)));
}

function trimZeros(text: string): string {
  if (!text.includes('.')) return text;
  return text.replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * Formats a duration the way stout prints one: the largest unit that keeps the value at least 1
 * (`250ms`, `2secs`, `15mins`, `1.5hrs`), used for the MESOS_* duration variables.
 */
export function formatStoutDuration(milliseconds: number): string {
  const ns = milliseconds * 1e6;
  const units: Array<[number, string]> = [
    [7 * 24 * 3600e9, 'weeks'],
    [24 * 3600e9, 'days'],
    [3600e9, 'hrs'],
    [60e9, 'mins'],
    [1e9, 'secs'],
    [1e6, 'ms'],
    [1e3, 'us'],
  ];
  for (const [size, unit] of units) {
    if (Math.abs(ns) >= size) return `${formatCppDouble(ns / size)}${unit}`;
  }
  return `${formatCppDouble(ns)}ns`;
}
