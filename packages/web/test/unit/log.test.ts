import { describe, expect, it, vi } from 'vitest';
import { LogLines } from '../../src/log/log-lines.js';
import { extendSearch, firstMatchFrom, matchesOnLine, searchLog } from '../../src/log/log-search.js';

function linesOf(log: LogLines): string[] {
  return Array.from({ length: log.count }, (_, i) => log.line(i));
}

describe('LogLines', () => {
  it.each([
    ['one chunk', ['a\nb\nc\n'], ['a', 'b', 'c']],
    ['a line cut across chunks', ['hel', 'lo\nwor', 'ld\n'], ['hello', 'world']],
    ['no final newline keeps the open line', ['a\nb'], ['a', 'b']],
    ['CRLF and lone CR end lines', ['a\r\nb\rc\n'], ['a', 'b', 'c']],
    ['empty lines are kept', ['a\n\n\nb\n'], ['a', '', '', 'b']],
    ['a chunk that is only a newline', ['a', '\n', 'b'], ['a', 'b']],
  ])('%s', (_name, chunks, expected) => {
    const log = new LogLines();
    for (const chunk of chunks) log.append(chunk);
    expect(linesOf(log)).toEqual(expected);
  });

  it('counts a version per change and none for an empty chunk', () => {
    const log = new LogLines();
    log.append('a');
    log.append('');
    log.append('b\n');
    expect(log.version).toBe(2);
  });
});

describe('log search', () => {
  it('finds every match, case-insensitively, with positions', () => {
    const log = new LogLines();
    log.append('Error here\nnothing\nerror and ERROR\n');
    const m = searchLog(log, 'error');
    expect(m.lines).toEqual([0, 2, 2]);
    expect(m.starts).toEqual([0, 0, 10]);
    expect(matchesOnLine(m, 2)).toEqual([1, 3]);
    expect(matchesOnLine(m, 1)).toEqual([0, 0]);
  });

  it('keeps finding matches as the log grows, including in a line completed later', () => {
    const log = new LogLines();
    log.append('needle 1\nhay ne');
    let m = searchLog(log, 'needle');
    expect(m.lines).toEqual([0]);
    log.append('edle 2\nneedle 3\n');
    m = extendSearch(m, log);
    expect(m.lines).toEqual([0, 1, 2]);
    expect(m).toEqual(searchLog(log, 'needle'));
  });

  it('finds the first match at or after a line, wrapping to the first', () => {
    const log = new LogLines();
    log.append('x\na\nx\nx\n');
    const m = searchLog(log, 'x');
    expect(firstMatchFrom(m, 1)).toBe(1);
    expect(firstMatchFrom(m, 3)).toBe(2);
    expect(firstMatchFrom(m, 9)).toBe(0);
  });

  it('searches 100,000 lines, and incrementally: a grown log is searched only where it grew', () => {
    const log = new LogLines();
    let text = '';
    for (let i = 0; i < 100_000; i++) text += `line ${i} ${i % 1000 === 0 ? 'MARK' : 'data'}\n`;
    log.append(text);
    const m = searchLog(log, 'mark');
    expect(m.lines.length).toBe(100);
    log.append('one more MARK\n');
    // Incremental search looks only at what was added (the lines it reads, not how long it takes:
    // speed is not a test's to measure).
    const read = vi.spyOn(log, 'line');
    const extended = extendSearch(m, log);
    expect(read.mock.calls.map(([index]) => index)).toEqual([100_000]);
    expect(extended.lines.length).toBe(101);
    expect(extended.lines.at(-1)).toBe(100_000);
    expect(extended).toEqual(searchLog(log, 'mark'));
  });
});
