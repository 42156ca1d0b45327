import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordIODecoder, RecordIOError, encodeRecord, encodeRecords, readRecords } from '@galley/mesos';
import { recordedStreams, transcriptsAvailable } from '../support/transcripts.js';

/** Splits `bytes` at the given sizes (cycling), like a network that re-chunks a stream. */
function chunk(bytes: Buffer, sizes: (index: number) => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes(i));
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Feeds the chunks through one decoder and returns the records as UTF-8 text. */
function decodeAll(chunks: Uint8Array[], decoder = new RecordIODecoder()): string[] {
  const out: string[] = [];
  for (const c of chunks)
    for (const record of decoder.decode(c)) out.push(Buffer.from(record).toString('utf8'));
  decoder.end();
  return out;
}

function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.runIf(transcriptsAvailable())(
  'RecordIO decoder replaying streams recorded from a real Mesos master',
  () => {
    const streams = recordedStreams();

    it('has recorded streams to replay', () => {
      expect(streams.length).toBeGreaterThan(10);
    });

    it('encodes each recorded record with the length header Mesos wrote', () => {
      for (const { records } of streams) {
        for (const record of records) {
          const framed = encodeRecord(record.raw);
          expect(framed.subarray(0, framed.indexOf(0x0a)).toString()).toBe(String(record.recordLength));
        }
      }
    });

    const splits: [string, (bytes: Buffer) => (i: number) => number][] = [
      ['1-byte chunks', () => () => 1],
      ['half-size chunks', (bytes) => () => Math.ceil(bytes.length / 2)],
      [
        'random-size chunks',
        () => {
          const random = seededRandom(42);
          return () => 1 + Math.floor(random() * 700);
        },
      ],
      ['one chunk', (bytes) => () => bytes.length],
    ];
    for (const [name, sizes] of splits) {
      it(`returns every record exactly, in order, from ${name}`, () => {
        for (const { name: stream, records } of streams) {
          const bytes = encodeRecords(records.map((r) => r.raw));
          const decoded = decodeAll(chunk(bytes, sizes(bytes)));
          expect(decoded, stream).toEqual(records.map((r) => r.raw));
        }
      });
    }
  },
);

describe('RecordIO decoder edge cases (spec §2)', () => {
  const heartbeat = '{"type":"HEARTBEAT"}';

  it('encodes and decodes the example of the spec byte for byte', () => {
    const hex = '32 30 0a 7b 22 74 79 70 65 22 3a 22 48 45 41 52 54 42 45 41 54 22 7d'.replaceAll(' ', '');
    expect(encodeRecord(heartbeat).toString('hex')).toBe(hex);
    expect(decodeAll([Buffer.from(`20\n${heartbeat}20\n${heartbeat}`)])).toEqual([heartbeat, heartbeat]);
  });

  it('joins a header split across chunks ("1" + "23\\n…")', () => {
    const payload = 'x'.repeat(123);
    const framed = encodeRecord(payload);
    expect(decodeAll([framed.subarray(0, 1), framed.subarray(1)])).toEqual([payload]);
  });

  it('handles chunks ending exactly at a record boundary and right after the LF', () => {
    const a = encodeRecord('{"a":1}');
    const b = encodeRecord('{"b":2}');
    const lf = b.indexOf(0x0a) + 1;
    expect(decodeAll([a, b.subarray(0, lf), b.subarray(lf)])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('returns many records from one chunk', () => {
    const payloads = Array.from({ length: 500 }, (_, i) => `{"n":${i}}`);
    expect(decodeAll([encodeRecords(payloads)])).toEqual(payloads);
  });

  it('counts bytes, not characters, and keeps multi-byte UTF-8 split across chunks intact', () => {
    const payload = '{"message":"naïve café ☃ 𝄞 中文"}';
    const framed = encodeRecord(payload);
    expect(Number(framed.subarray(0, framed.indexOf(0x0a)).toString())).toBe(Buffer.byteLength(payload));
    const snowman = framed.indexOf(Buffer.from('☃'));
    // Cut in the middle of the 3-byte snowman and of the 4-byte G clef.
    const clef = framed.indexOf(Buffer.from('𝄞'));
    const parts = [
      framed.subarray(0, snowman + 1),
      framed.subarray(snowman + 1, clef + 2),
      framed.subarray(clef + 2),
    ];
    expect(decodeAll(parts)).toEqual([payload]);
  });

  it('ignores a zero-length record instead of returning an empty one', () => {
    expect(decodeAll([Buffer.from(`0\n20\n${heartbeat}0\n`)])).toEqual([heartbeat]);
  });

  it.each([
    ['a non-digit header', 'x2\n{}'],
    ['a negative size', '-2\n{}'],
    ['a CR before the LF', '2\r\n{}'],
    ['a space in the header', '2 \n{}'],
    ['an empty header line', '\n2\n{}'],
  ])('fails with RECORDIO_INVALID_HEADER on %s, and keeps failing', (_name, text) => {
    const decoder = new RecordIODecoder();
    const error = catchError(() => decoder.decode(Buffer.from(text)));
    expect(error).toBeInstanceOf(RecordIOError);
    expect(error).toMatchObject({ code: 'RECORDIO_INVALID_HEADER', fatal: true });
    expect(catchError(() => decoder.decode(Buffer.from('2\n{}')))).toBe(error);
  });

  it('reports where the bad header byte is in the whole stream', () => {
    const decoder = new RecordIODecoder();
    decoder.decode(encodeRecord('{}'));
    const error = catchError(() => decoder.decode(Buffer.from('12a')));
    expect(error).toMatchObject({ code: 'RECORDIO_INVALID_HEADER', streamOffset: 4 + 2 });
  });

  it('delivers the records before a broken header first, then fails on the next call', () => {
    const decoder = new RecordIODecoder();
    const chunk = Buffer.concat([encodeRecord('{"a":1}'), Buffer.from('12x\n{}')]);
    expect(decoder.decode(chunk).map(String)).toEqual(['{"a":1}']);
    expect(decoder.error).toMatchObject({ code: 'RECORDIO_INVALID_HEADER' });
    expect(catchError(() => decoder.decode(Buffer.from('2\n{}')))).toMatchObject({
      code: 'RECORDIO_INVALID_HEADER',
      streamOffset: 9 + 2,
    });
  });

  it('refuses a record larger than maxRecordBytes before buffering it', () => {
    const decoder = new RecordIODecoder({ maxRecordBytes: 1000 });
    expect(decodeAll([encodeRecord('y'.repeat(1000))], decoder)).toHaveLength(1);
    const other = new RecordIODecoder({ maxRecordBytes: 1000 });
    const error = catchError(() => other.decode(Buffer.from('1001\n')));
    expect(error).toMatchObject({ code: 'RECORDIO_RECORD_TOO_LARGE' });
    expect(other.pendingBytes).toBe(0);
  });

  it('refuses an absurd size header as soon as it exceeds the default bound (256 MiB)', () => {
    const decoder = new RecordIODecoder();
    expect(catchError(() => decoder.decode(Buffer.from('99999999999999999999999')))).toMatchObject({
      code: 'RECORDIO_RECORD_TOO_LARGE',
    });
  });

  it('reports EOF in the middle of a record or a header as RECORDIO_TRUNCATED', () => {
    const inRecord = new RecordIODecoder();
    inRecord.decode(Buffer.from('10\n{"a":'));
    expect(inRecord.pendingBytes).toBe(5);
    expect(catchError(() => inRecord.end())).toMatchObject({ code: 'RECORDIO_TRUNCATED' });
    const inHeader = new RecordIODecoder();
    inHeader.decode(Buffer.from('1'));
    expect(catchError(() => inHeader.end())).toMatchObject({ code: 'RECORDIO_TRUNCATED' });
    const clean = new RecordIODecoder();
    clean.decode(encodeRecord('{}'));
    expect(() => clean.end()).not.toThrow();
  });

  it('accepts plain Uint8Array chunks as well as Buffers', () => {
    const framed = encodeRecord('{"ok":true}');
    expect(decodeAll([new Uint8Array(framed.subarray(0, 5)), new Uint8Array(framed.subarray(5))])).toEqual([
      '{"ok":true}',
    ]);
  });

  it('readRecords reads an async byte stream and rejects a stream cut mid-record', async () => {
    async function* source(parts: Buffer[]) {
      for (const p of parts) yield p;
    }
    const records: string[] = [];
    for await (const r of readRecords(source([encodeRecords(['{"a":1}', '{"b":2}'])])))
      records.push(r.toString());
    expect(records).toEqual(['{"a":1}', '{"b":2}']);
    const cut = encodeRecords(['{"a":1}', '{"b":2}']);
    await expect(async () => {
      for await (const _ of readRecords(source([cut.subarray(0, cut.length - 2)]))) void _;
    }).rejects.toMatchObject({ code: 'RECORDIO_TRUNCATED' });
  });
});

describe('RecordIO decoder properties', () => {
  it('any list of records (any bytes), cut into any chunks, decodes to the same records', () => {
    const payload = fc.uint8Array({ minLength: 0, maxLength: 300 });
    const sizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 });
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 30 }), sizes, (payloads, cuts) => {
        const bytes = encodeRecords(payloads);
        const decoder = new RecordIODecoder();
        const decoded: string[] = [];
        for (const c of chunk(bytes, (i) => cuts[i % cuts.length] as number)) {
          for (const record of decoder.decode(c)) decoded.push(Buffer.from(record).toString('hex'));
        }
        decoder.end();
        // Zero-length records are skipped by design (spec §2 item 4).
        expect(decoded).toEqual(
          payloads.filter((p) => p.length > 0).map((p) => Buffer.from(p).toString('hex')),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('any strict prefix of a non-empty stream is reported as truncated', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 50 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        (payloads, cut) => {
          const bytes = encodeRecords(payloads);
          const boundaries = new Set<number>([0]);
          let at = 0;
          for (const p of payloads) {
            at += encodeRecord(p).length;
            boundaries.add(at);
          }
          const end = cut % bytes.length;
          const decoder = new RecordIODecoder();
          decoder.decode(bytes.subarray(0, end));
          if (boundaries.has(end)) expect(() => decoder.end()).not.toThrow();
          else expect(catchError(() => decoder.end())).toMatchObject({ code: 'RECORDIO_TRUNCATED' });
        },
      ),
      { numRuns: 300 },
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
