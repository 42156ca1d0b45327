import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJsonBytes } from '@galley/mesos';
import { decodeLargeOffers } from '../../src/json/large-offers.js';

/** An offer as Mesos writes it (fields in .proto order), with a label of the caller's choice. */
function offer(i: number, label: string): string {
  return (
    `{"id":{"value":"O${i}"},"framework_id":{"value":"F"},"agent_id":{"value":"S${i % 9}"},"hostname":"h${i}",` +
    `"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":2.0},"role":"*"},` +
    `{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},"role":"*"}],` +
    `"attributes":[{"name":"note","type":"TEXT","text":{"value":${JSON.stringify(label)}}}]}`
  );
}

function offersRecord(count: number, label: (i: number) => string): string {
  const list: string[] = [];
  for (let i = 0; i < count; i++) list.push(offer(i, label(i)));
  return `{"type":"OFFERS","offers":{"offers":[${list.join(',')}]}}`;
}

describe('large OFFERS records decoded in slices', () => {
  it('gives exactly what JSON.parse gives for a large record', () => {
    const text = offersRecord(1500, (i) => `zone-${i % 3}`);
    expect(text.length).toBeGreaterThan(300 * 1024);
    expect(decodeJsonBytes(Buffer.from(text))).toEqual(JSON.parse(text));
    // The sliced path was taken.
    expect(decodeLargeOffers(Buffer.from(text))).toEqual(JSON.parse(text));
  });

  it('cannot be fooled by the separator inside a string, where its quotes are escaped', () => {
    const evil = '},{"id":{"value":"';
    const text = offersRecord(1200, () => `x${evil}y`);
    expect(decodeLargeOffers(Buffer.from(text))).toEqual(JSON.parse(text));
  });

  it('falls back to the whole record when a cut lands at another nesting depth', () => {
    // Every offer's resources end with an object whose first key is "id": the separator also
    // appears one level down, so some cut falls inside an offer and that slice does not parse.
    const text = offersRecord(1200, () => 'n').replaceAll(
      '"role":"*"}],"attributes"',
      '"role":"*"},{"id":{"value":"odd"}}],"attributes"',
    );
    expect(decodeLargeOffers(Buffer.from(text))).toBeUndefined();
    expect(decodeJsonBytes(Buffer.from(text))).toEqual(JSON.parse(text));
  });

  it('keeps exact int64 in a large record (unavailability nanoseconds)', () => {
    const text = offersRecord(1200, () => 'n').replace(
      '"hostname":"h5",',
      '"hostname":"h5","unavailability":{"start":{"nanoseconds":1781234567890123457}},',
    );
    const value = decodeJsonBytes(Buffer.from(text)) as {
      offers: { offers: { unavailability?: { start: { nanoseconds: unknown } } }[] };
    };
    expect(value.offers.offers[5]?.unavailability?.start.nanoseconds).toBe(1781234567890123457n);
  });

  it('agrees with JSON.parse for random labels, including quotes, braces and non-ASCII', () => {
    const label = fc.string({
      unit: fc.constantFrom('a', '"', '}', '{', ',', ':', '\\', 'é', '☃', 'id', 'value'),
      maxLength: 30,
    });
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 5 }), (labels) => {
        const text = offersRecord(700, (i) => labels[i % labels.length] as string);
        expect(decodeJsonBytes(Buffer.from(text))).toEqual(JSON.parse(text));
      }),
      { numRuns: 25 },
    );
  });

  it('leaves other large records alone', () => {
    const text = JSON.stringify({
      type: 'UPDATE',
      update: { status: { message: 'x'.repeat(200 * 1024), state: 'TASK_FAILED' } },
    });
    expect(decodeJsonBytes(Buffer.from(text))).toEqual(JSON.parse(text));
  });
});
