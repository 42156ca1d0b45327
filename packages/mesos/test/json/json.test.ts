import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonDecodeError, decodeJson, decodeJsonBytes, encodeJson } from '@galley/mesos';
import { recordedStreams, transcriptsAvailable } from '../support/transcripts.js';

describe('decodeJson: tolerant Mesos JSON (spec §0, §9.17)', () => {
  it('reads bare Infinity, -Infinity and NaN outside strings', () => {
    const text = '{"limits":{"cpus":{"value":Infinity},"mem":{"value":-Infinity}},"x":[NaN,1.5]}';
    const value = decodeJson(text) as { limits: Record<string, { value: number }>; x: number[] };
    expect(value.limits['cpus']?.value).toBe(Infinity);
    expect(value.limits['mem']?.value).toBe(-Infinity);
    expect(value.x[0]).toBeNaN();
    expect(value.x[1]).toBe(1.5);
  });

  it('leaves the words Infinity and NaN inside strings alone', () => {
    expect(decodeJson('{"message":"NaN or Infinity","v":Infinity}')).toEqual({
      message: 'NaN or Infinity',
      v: Infinity,
    });
  });

  it('keeps every digit of int64 values beyond 2^53 as bigint', () => {
    // A real unreachable_time from 14-agent-lost: JSON.parse would round it.
    const text = '{"unreachable_time":{"nanoseconds":1781234567890123457},"begin":31000}';
    const value = decodeJson(text) as { unreachable_time: { nanoseconds: bigint }; begin: number };
    expect(value.unreachable_time.nanoseconds).toBe(1781234567890123457n);
    expect(value.begin).toBe(31000);
    expect(typeof value.begin).toBe('number');
    expect(decodeJson('[-9223372036854775808, 18446744073709551615]')).toEqual([
      -9223372036854775808n,
      18446744073709551615n,
    ]);
  });

  it('keeps safe 16-digit integers and long fractions as numbers', () => {
    expect(decodeJson('{"a":9007199254740991,"b":1718031312571604.5,"c":1e300}')).toEqual({
      a: 9007199254740991,
      b: 1718031312571604.5,
      c: 1e300,
    });
    expect(decodeJson('{"a":9007199254740993}')).toEqual({ a: 9007199254740993n });
  });

  it('handles both oddities in one record, with whitespace, escapes and nesting', () => {
    const text =
      ' { "s" : "a\\"b\\\\c\\u00e9" , "n" : [ 12345678901234567890 , Infinity , { } , [ ] , true , false , null ] } ';
    expect(decodeJson(text)).toEqual({
      s: 'a"b\\cé',
      n: [12345678901234567890n, Infinity, {}, [], true, false, null],
    });
  });

  it('does not let a "__proto__" key change the prototype on the slow path', () => {
    const value = decodeJson('{"__proto__":{"polluted":true},"v":Infinity}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(value['__proto__']).toEqual({ polluted: true });
  });

  it.each([
    ['truncated text', '{"type":"HEARTBEAT"'],
    ['a bare word', '{"a":Infinite}'],
    ['a trailing comma', '{"a":1,}'],
    ['an empty text', ''],
    ['data after the value', '{} {}'],
    ['a leading zero', '{"a":01}'],
  ])('throws JsonDecodeError (MESOS_JSON_INVALID) on %s', (_name, text) => {
    expect(() => decodeJson(text)).toThrow(JsonDecodeError);
    try {
      decodeJson(text);
    } catch (error) {
      expect(error).toMatchObject({ code: 'MESOS_JSON_INVALID' });
    }
  });

  it('decodes UTF-8 bytes once into the same value', () => {
    const text = '{"message":"café ☃","v":NaN}';
    const value = decodeJsonBytes(new TextEncoder().encode(text)) as { message: string; v: number };
    expect(value.message).toBe('café ☃');
    expect(value.v).toBeNaN();
  });

  it('agrees with JSON.parse on any plain JSON value without unsafe integers', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const text = JSON.stringify(value);
        const spaced = JSON.stringify(value, null, 2);
        // Oracle: integers written without exponent beyond 2^53 come back as the bigint of their digits.
        const oracle = (_k: string, v: unknown) =>
          typeof v === 'number' && !Number.isSafeInteger(v) && Number.isInteger(v) && Math.abs(v) < 1e21
            ? BigInt(String(v))
            : v;
        expect(decodeJson(text)).toEqual(JSON.parse(text, oracle));
        expect(decodeJson(spaced)).toEqual(decodeJson(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe.runIf(transcriptsAvailable())('decodeJson on every record of the real Mesos transcripts', () => {
  it('decodes each raw record to what JSON.parse gives, except for exact int64', () => {
    let records = 0;
    let exact = 0;
    for (const { records: list } of recordedStreams()) {
      for (const record of list) {
        records++;
        const value = decodeJson(record.raw);
        const plain = JSON.parse(record.raw, (_k, v: unknown) => v) as unknown;
        const normalized = JSON.parse(
          JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)),
        ) as unknown;
        expect(normalized).toEqual(plain);
        if (/"nanoseconds":\d{17,}/.test(record.raw)) {
          exact++;
          const digits = /"nanoseconds":(\d{17,})/.exec(record.raw)?.[1] as string;
          expect(
            JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
          ).toContain(digits);
        }
      }
    }
    expect(records).toBeGreaterThan(200);
    expect(exact).toBeGreaterThan(0);
  });
});

describe('encodeJson (spec §0 "Accepted by Mesos")', () => {
  it('writes plain data exactly like JSON.stringify', () => {
    const call = {
      type: 'DECLINE',
      framework_id: { value: 'f' },
      decline: { offer_ids: [{ value: 'o' }], filters: { refuse_seconds: 60 } },
    };
    expect(encodeJson(call)).toBe(JSON.stringify(call));
  });

  it('writes unsafe bigint as a decimal string and safe bigint as a number', () => {
    expect(
      encodeJson({
        grace_period: { nanoseconds: 30_000_000_000n },
        at: { nanoseconds: 1781234567890123457n },
      }),
    ).toBe('{"grace_period":{"nanoseconds":30000000000},"at":{"nanoseconds":"1781234567890123457"}}');
  });

  it('writes Infinity as the string Mesos accepts for doubles, not null', () => {
    expect(encodeJson({ limits: { cpus: { value: Infinity }, mem: { value: -Infinity } } })).toBe(
      '{"limits":{"cpus":{"value":"Infinity"},"mem":{"value":"-Infinity"}}}',
    );
  });

  it('leaves out null members (unset for Mesos) but keeps real "null" text in strings', () => {
    expect(encodeJson({ a: null, b: 'null', c: [1] })).toBe('{"b":"null","c":[1]}');
  });

  it('round-trips what decodeJson produced from a Mesos record', () => {
    const raw =
      '{"task":{"limits":{"cpus":{"value":Infinity}},"kill_policy":{"grace_period":{"nanoseconds":1781234567890123457}}}}';
    const again = decodeJson(
      encodeJson(decodeJson(raw))
        .replace('"Infinity"', 'Infinity')
        .replace('"1781234567890123457"', '1781234567890123457'),
    );
    expect(again).toEqual(decodeJson(raw));
  });
});
