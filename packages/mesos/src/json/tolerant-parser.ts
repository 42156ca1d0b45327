/**
 * The slow path of `decodeJson`: a complete JSON parser that also accepts what Mesos writes but
 * JSON does not allow (spec §0, §9.17):
 * - the bare tokens `Infinity`, `-Infinity` and `NaN` as numbers (rapidjson's
 *   kWriteNanAndInfFlag);
 * - integers beyond `Number.MAX_SAFE_INTEGER` (int64/uint64 such as `TimeInfo.nanoseconds`),
 *   which become `bigint` so no digit is lost. Numbers with a fraction or exponent stay `number`.
 * Everything else follows RFC 8259.
 */
import { JsonDecodeError } from './errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;

/** Parses `text` with the rules above. Throws `JsonDecodeError` on invalid input. */
export function parseTolerant(text: string): unknown {
  const parser = new TolerantParser(text);
  const value = parser.value();
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail('unexpected data after the JSON value');
  return value;
}

class TolerantParser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new JsonDecodeError(`invalid JSON at ${this.pos}: ${what}`, this.pos);
  }

  skipWhitespace(): void {
    const t = this.text;
    let c = t.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = t.charCodeAt(++this.pos);
  }

  value(): unknown {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === QUOTE) return this.string();
    if (c === MINUS || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.keyword();
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.pos++;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== QUOTE) this.fail('expected a property name');
      const key = this.string();
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      const value = this.value();
      if (key === '__proto__') {
        Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        result[key] = value;
      }
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) return result;
      if (c !== 0x2c) this.fail("expected ',' or '}'");
    }
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.pos++;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return result;
    }
    for (;;) {
      result.push(this.value());
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5d) return result;
      if (c !== 0x2c) this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const t = this.text;
    const start = this.pos + 1;
    let i = start;
    let escaped = false;
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) {
        this.pos = i;
        this.fail('unterminated string');
      }
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c < 0x20) {
        this.pos = i;
        this.fail('control character in string');
      }
      i++;
    }
    this.pos = i + 1;
    if (!escaped) return t.slice(start, i);
    try {
      return JSON.parse(t.slice(start - 1, i + 1)) as string;
    } catch (cause) {
      throw new JsonDecodeError(`invalid JSON at ${start}: bad escape in string`, start, { cause });
    }
  }

  private number(): number | bigint {
    const t = this.text;
    const start = this.pos;
    let i = start;
    if (t.charCodeAt(i) === MINUS) {
      i++;
      if (t.startsWith('Infinity', i)) {
        this.pos = i + 8;
        return -Infinity;
      }
    }
    const intStart = i;
    while (isDigit(t.charCodeAt(i))) i++;
    if (i === intStart) {
      this.pos = i;
      this.fail('expected a digit');
    }
    if (t.charCodeAt(intStart) === 0x30 && i - intStart > 1) {
      this.pos = intStart;
      this.fail('leading zero');
    }
    let integer = true;
    if (t.charCodeAt(i) === 0x2e) {
      integer = false;
      i++;
      const fracStart = i;
      while (isDigit(t.charCodeAt(i))) i++;
      if (i === fracStart) {
        this.pos = i;
        this.fail('expected a digit after the decimal point');
      }
    }
    const e = t.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      i++;
      const sign = t.charCodeAt(i);
      if (sign === 0x2b || sign === MINUS) i++;
      const expStart = i;
      while (isDigit(t.charCodeAt(i))) i++;
      if (i === expStart) {
        this.pos = i;
        this.fail('expected a digit in the exponent');
      }
    }
    this.pos = i;
    const token = t.slice(start, i);
    const n = Number(token);
    if (integer && !Number.isSafeInteger(n)) return BigInt(token);
    return n;
  }

  private keyword(): unknown {
    const t = this.text;
    const at = this.pos;
    for (const [word, value] of KEYWORDS) {
      if (t.startsWith(word, at)) {
        this.pos = at + word.length;
        return value;
      }
    }
    this.fail('unexpected character');
  }
}

const KEYWORDS: [string, unknown][] = [
  ['true', true],
  ['false', false],
  ['null', null],
  ['Infinity', Infinity],
  ['NaN', NaN],
];

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
