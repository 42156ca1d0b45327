/**
 * A byte-level RecordIO decoder (spec §2): `size LF data`, where `size` is the ASCII decimal
 * byte length of `data` and nothing separates records. Chunk boundaries are unrelated to record
 * boundaries, so the decoder is a state machine fed with arbitrary slices:
 *
 *   HEADER --digit--> HEADER (size = size*10 + digit)
 *   HEADER --LF, size 0--> HEADER (an empty record is skipped, Mesos never sends one)
 *   HEADER --LF, size n--> RECORD(n)
 *   HEADER --anything else / empty header--> failed (RECORDIO_INVALID_HEADER)
 *   RECORD(n) --n bytes--> emit, HEADER
 *
 * Records that lie inside one chunk are returned as views into that chunk (no copy); a record
 * that spans chunks is assembled once into a buffer allocated at its announced size.
 */
import { Buffer } from 'node:buffer';
import { RecordIOError } from './errors.js';

const LF = 0x0a;
const ZERO = 0x30;
const NINE = 0x39;

/** Default upper bound for one record: 256 MiB (spec §2 item 5). */
export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** Options of `RecordIODecoder`. */
export interface RecordIODecoderOptions {
  /** Largest record accepted, in bytes; a larger size header is a fatal error. Default 256 MiB. */
  maxRecordBytes?: number;
}

/**
 * Decodes a RecordIO byte stream into records. Not reusable after an error: once `decode` or
 * `end` has thrown a `RecordIOError`, every later call throws the same error.
 */
export class RecordIODecoder {
  private readonly maxRecordBytes: number;
  /** Size accumulated from the header digits read so far. */
  private size = 0;
  /** Number of header digits read so far (0 = at a record boundary). */
  private digits = 0;
  /** The record being assembled across chunks, or undefined while reading a header. */
  private record: Buffer | undefined;
  private filled = 0;
  private offset = 0;
  private failure: RecordIOError | undefined;

  constructor(options: RecordIODecoderOptions = {}) {
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  /**
   * Feeds the next slice of the stream and returns the records it completed, in order (possibly
   * none). A returned record may be a view into `chunk`: copy it if `chunk` will be reused.
   * Throws `RecordIOError` (fatal) on an invalid or oversized header; when records were
   * completed in the same chunk before it, they are returned first and the next call throws.
   */
  decode(chunk: Uint8Array): Buffer[] {
    if (this.failure) throw this.failure;
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const records: Buffer[] = [];
    try {
      this.decodeInto(bytes, records);
    } catch (error) {
      // Records completed before the broken header are still delivered; the error comes next call.
      if (error === this.failure && records.length > 0) return records;
      throw error;
    }
    return records;
  }

  private decodeInto(bytes: Buffer, records: Buffer[]): void {
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      if (this.record !== undefined) {
        i = this.fillRecord(bytes, i, records);
        continue;
      }
      // HEADER state: accumulate digits until LF.
      let size = this.size;
      let digits = this.digits;
      let complete = false;
      while (i < n) {
        const c = bytes[i++] as number;
        if (c === LF) {
          complete = true;
          break;
        }
        if (c < ZERO || c > NINE)
          this.fail('RECORDIO_INVALID_HEADER', `non-digit byte 0x${c.toString(16)} in a size header`, i - 1);
        size = size * 10 + (c - ZERO);
        digits++;
        if (size > this.maxRecordBytes) {
          this.fail(
            'RECORDIO_RECORD_TOO_LARGE',
            `record larger than ${this.maxRecordBytes} bytes announced`,
            i - 1,
          );
        }
      }
      if (!complete) {
        this.size = size;
        this.digits = digits;
        break;
      }
      if (digits === 0) this.fail('RECORDIO_INVALID_HEADER', 'empty size header', i - 1);
      this.size = 0;
      this.digits = 0;
      if (size === 0) continue;
      if (n - i >= size) {
        records.push(bytes.subarray(i, i + size));
        i += size;
      } else {
        this.record = Buffer.allocUnsafe(size);
        this.filled = 0;
      }
    }
    this.offset += n;
  }

  /**
   * Declares the end of the stream. Throws `RecordIOError` RECORDIO_TRUNCATED when it ended
   * inside a header or a record (the partial data is discarded).
   */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.record !== undefined || this.digits > 0) {
      const what = this.record ? `a record (${this.filled} of ${this.record.length} bytes)` : 'a size header';
      this.fail('RECORDIO_TRUNCATED', `stream ended inside ${what}`, this.offset);
    }
  }

  /** The fatal error met so far, if any (set even when `decode` returned records before it). */
  get error(): RecordIOError | undefined {
    return this.failure;
  }

  /** Bytes held for a record that is not complete yet. */
  get pendingBytes(): number {
    return this.record ? this.filled : 0;
  }

  private fillRecord(bytes: Buffer, start: number, records: Buffer[]): number {
    const record = this.record as Buffer;
    const take = Math.min(record.length - this.filled, bytes.length - start);
    bytes.copy(record, this.filled, start, start + take);
    this.filled += take;
    if (this.filled === record.length) {
      records.push(record);
      this.record = undefined;
      this.filled = 0;
    }
    return start + take;
  }

  private fail(code: RecordIOError['code'], message: string, at: number): never {
    this.failure = new RecordIOError(code, `RecordIO: ${message}`, this.offset + at);
    this.record = undefined;
    throw this.failure;
  }
}

/**
 * Reads records from a byte stream (for example an HTTP response body) until it ends. Rejects
 * with `RecordIOError` on bad framing or when the stream ends mid-record.
 */
export async function* readRecords(
  source: AsyncIterable<Uint8Array>,
  options?: RecordIODecoderOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const decoder = new RecordIODecoder(options);
  for await (const chunk of source) {
    for (const record of decoder.decode(chunk)) yield record;
  }
  decoder.end();
}
