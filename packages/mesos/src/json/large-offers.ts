/**
 * Decoding a large OFFERS record in slices. A JS string of more than ~128 KiB lives in V8's
 * large-object space, whose allocation costs several times more per byte than a regular string
 * (fresh pages each time); a busy cluster's OFFERS events are often that large. When a record has
 * exactly the shape Mesos writes,
 *
 *   {"type":"OFFERS","offers":{"offers":[ {"id":{"value":"…"},…} , {"id":{"value":"…"},…} … ]}}
 *
 * it is cut between offers (at `},{"id":{"value":"`) into slices of at most SLICE_BYTES, each
 * decoded and parsed on its own. The result is the same value `JSON.parse` gives for the whole
 * text: the separator cannot occur inside a string (its quotes would be escaped there), and a cut
 * at another nesting depth leaves a slice that is not valid JSON, in which case the caller parses
 * the whole record instead.
 */
import { Buffer } from 'node:buffer';

const PREFIX = Buffer.from('{"type":"OFFERS","offers":{"offers":[');
const SUFFIX = Buffer.from(']}}');
const SEPARATOR = Buffer.from('},{"id":{"value":"');

/** Records at least this large are worth slicing (V8's large-object threshold is 128 KiB). */
export const LARGE_RECORD_BYTES = 100 * 1024;
/** Bytes after which a slice ends at the next offer boundary. */
const SLICE_BYTES = 64 * 1024;

/**
 * The OFFERS event in `record`, parsed slice by slice, or undefined when the record does not have
 * the expected shape or a slice does not parse (the caller then parses the whole record).
 */
export function decodeLargeOffers(record: Buffer): unknown {
  const end = record.length - SUFFIX.length;
  if (!startsWith(record, PREFIX, 0) || !startsWith(record, SUFFIX, end)) return undefined;
  const offers: unknown[] = [];
  let sliceStart = PREFIX.length;
  while (sliceStart < end) {
    // Cut at the first offer boundary past SLICE_BYTES (or take the rest).
    const cut = end - sliceStart > SLICE_BYTES ? record.indexOf(SEPARATOR, sliceStart + SLICE_BYTES) : -1;
    const boundary = cut === -1 || cut >= end ? end : cut + 1;
    if (!appendSlice(record, sliceStart, boundary, offers)) return undefined;
    sliceStart = boundary + 1;
  }
  return { type: 'OFFERS', offers: { offers } };
}

/** Scratch space for `[slice]`, reused: a slice is turned into a string before the next one. */
let scratch = Buffer.allocUnsafe(SLICE_BYTES * 2);

function appendSlice(record: Buffer, start: number, end: number, into: unknown[]): boolean {
  const length = end - start + 2;
  if (scratch.length < length) scratch = Buffer.allocUnsafe(length * 2);
  scratch[0] = 0x5b; // [
  record.copy(scratch, 1, start, end);
  scratch[length - 1] = 0x5d; // ]
  let items: unknown;
  try {
    items = JSON.parse(scratch.toString('utf8', 0, length));
  } catch {
    return false;
  }
  if (!Array.isArray(items)) return false;
  for (const item of items) into.push(item);
  return true;
}

function startsWith(bytes: Buffer, part: Buffer, at: number): boolean {
  return (
    at >= 0 &&
    bytes.length - at >= part.length &&
    bytes.compare(part, 0, part.length, at, at + part.length) === 0
  );
}
