import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasLongDigitRun, hasLongDigitRunInBytes } from '../../src/json/digit-run.js';

describe('the skip scan for runs of 16 digits (the unsafe-integer guard)', () => {
  it('agrees with /\\d{16}/ on any text made of digits and separators', () => {
    const text = fc.string({
      unit: fc.constantFrom('0', '1', '9', ':', ',', '"', 'a', '.', 'é'),
      maxLength: 200,
    });
    fc.assert(
      fc.property(text, (t) => {
        expect(hasLongDigitRun(t)).toBe(/\d{16}/.test(t));
        expect(hasLongDigitRunInBytes(Buffer.from(t))).toBe(/\d{16}/.test(t));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds runs at the very start and end, and not 15-digit ones', () => {
    expect(hasLongDigitRun('1234567890123456')).toBe(true);
    expect(hasLongDigitRun('{"n":123456789012345}')).toBe(false);
    expect(hasLongDigitRun('{"n":1781234567890123457}')).toBe(true);
    expect(hasLongDigitRun('x'.repeat(31) + '9007199254740993')).toBe(true);
  });
});
