/** RecordIO encoding (spec §2): `<byte length in ASCII decimal>\n<bytes>`. */
import { Buffer } from 'node:buffer';

/** Frames one record. Strings are encoded as UTF-8; the header counts bytes, not characters. */
export function encodeRecord(payload: string | Uint8Array): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.from(`${body.length}\n`, 'latin1');
  return Buffer.concat([header, body], header.length + body.length);
}

/** Frames several records back to back into one buffer. */
export function encodeRecords(payloads: Iterable<string | Uint8Array>): Buffer {
  const parts: Buffer[] = [];
  for (const payload of payloads) parts.push(encodeRecord(payload));
  return Buffer.concat(parts);
}
