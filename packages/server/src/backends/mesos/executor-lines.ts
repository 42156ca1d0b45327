/**
 * A Mesos sandbox's stdout and stderr hold the program's output and, in stderr, the command
 * executor's own log: glog lines (`I1207 00:04:06.763619 23917 exec.cpp:164] Version: 1.12.0`,
 * `… Forked command at 23940`, `… Command exited with status 3 (pid: 23940)`) and, after
 * `… Sent SIGTERM to the following process trees:` or `… Killed the following process trees:`, the
 * trees on plain lines (`[ `, `-+- 23940 sh -c …`, ` \--- 23941 sleep 100 `, `]`). Mesos 1.12
 * writes nothing of its own to stdout; older command executors did, in the same shapes.
 *
 * This splits a byte range of such a file into the two parts, whole lines at a time, so a run's
 * log is the program's output only and the executor's lines can be read apart. A glog-shaped line
 * the program itself prints is taken for the executor's. Pure.
 */

/** The header of a glog line: severity, MMDD, time with microseconds, thread id, `file:line] `. */
export const GLOG_HEADER = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ [\w.-]+:\d+\] /;

/** A glog line whose message continues with process trees on the next lines. */
const TREES_FOLLOW = /process trees:$/;

/** One line of a process tree as stout prints it (`-+- 1 sh`, `--- 1 sh`, ` |--- 2 x`, ` | \--- 3 y`). */
const TREE_LINE = /^[ |]*[\\|]?-[-+]- \d+ /;

/** What the start of a glog line can look like before its newline was written: a prefix of the header. */
const GLOG_PREFIX = new RegExp(
  `^${[
    '[IWEF]',
    '\\d',
    '\\d',
    '\\d',
    '\\d',
    ' ',
    '\\d',
    '\\d',
    ':',
    '\\d',
    '\\d',
    ':',
    '\\d',
    '\\d',
    '\\.',
    '\\d{1,6}',
    ' +',
    '\\d+',
    ' ',
    '[\\w.-]+',
    ':',
    '\\d+',
    '\\]',
  ].reduceRight((rest, part) => `${part}(?:${rest})?`, '')}$`,
);

/** Which part of a sandbox file a line belongs to. */
export type LinePart = 'program' | 'executor';

/** Classifies lines in file order, keeping whether a process-tree block is open. */
export class LineClassifier {
  private inTrees = false;

  /** The part of one whole line (without its newline). */
  classify(line: string): LinePart {
    if (this.inTrees) {
      if (line === ']') {
        this.inTrees = false;
        return 'executor';
      }
      if (line === '[ ' || line.trim() === '' || TREE_LINE.test(line)) return 'executor';
      this.inTrees = false; // not a tree after all: the block ended without its bracket
    }
    if (GLOG_HEADER.test(line)) {
      this.inTrees = TREES_FOLLOW.test(line);
      return 'executor';
    }
    return 'program';
  }

  /**
   * Whether the last line of a file, not ended by a newline yet, may still become an executor
   * line: the start of a glog line or a line of an open tree block. Such a line is held back until
   * its newline arrives; any other is the program's and is shown as it is.
   */
  mayBeExecutor(partial: string): boolean {
    return this.inTrees || GLOG_HEADER.test(partial) || GLOG_PREFIX.test(partial);
  }
}

/** A range of lines to keep from a window: byte offsets in the file. */
export interface KeptRange {
  start: number;
  end: number;
}

/** What `splitWindow` found in a window of a file. */
export interface WindowSplit {
  /** The ranges of `part` from `offset` on, in order, at most `maxBytes` in all. */
  kept: KeptRange[];
  /** Where the next read starts: after every line looked at (a trailing partial line is not). */
  nextOffset: number;
}

const NEWLINE = 0x0a;

/** The length of `buf[from, from + length)` cut back so that it does not end inside a UTF-8 character. */
function utf8Cut(buf: Buffer, from: number, length: number): number {
  let n = length;
  while (n > 0 && from + n < buf.length && (buf[from + n]! & 0xc0) === 0x80) n--;
  return n > 0 ? n : length;
}

/**
 * Splits `window` (the file's bytes from `windowStart`, which may start up to a few KiB before
 * `offset` to give context) into lines, and keeps those of `part` from `offset` on, up to
 * `maxBytes`. `atEnd`: the window reaches the end of the file, so a last line without its newline
 * is complete for now (held back only while it may still become an executor line). A line of
 * `part` longer than the room left is cut at a character boundary (the next read goes on inside
 * it, classified again from its start); lines of the other part are skipped whole. A line without
 * a newline that fills the window alone is shown piece by piece.
 */
export function splitWindow(
  window: Buffer,
  windowStart: number,
  offset: number,
  maxBytes: number,
  part: LinePart,
  atEnd: boolean,
): WindowSplit {
  const classifier = new LineClassifier();
  const kept: KeptRange[] = [];
  const end = windowStart + window.length;
  let room = maxBytes;
  let next = offset;
  let lineStart = windowStart;
  if (windowStart > 0) {
    // The window's first line began before it: unknown, unless `offset` lies in it.
    const first = window.indexOf(NEWLINE);
    if (first >= 0 && windowStart + first + 1 <= offset) lineStart = windowStart + first + 1;
  }
  while (room > 0 && lineStart < end) {
    const at = window.indexOf(NEWLINE, lineStart - windowStart);
    const complete = at >= 0;
    const lineEnd = complete ? windowStart + at + 1 : end;
    const text = window.toString('utf8', lineStart - windowStart, lineEnd - windowStart - (complete ? 1 : 0));
    if (!complete) {
      const progress = kept.length > 0 || next > offset;
      if (atEnd ? classifier.mayBeExecutor(text) : progress) break;
    }
    const kind = classifier.classify(text);
    if (lineEnd > offset) {
      const from = Math.max(lineStart, offset);
      if (kind === part) {
        const take = lineEnd - from <= room ? lineEnd - from : utf8Cut(window, from - windowStart, room);
        kept.push({ start: from, end: from + take });
        room -= take;
        next = from + take;
        if (next < lineEnd) break; // cut: the next read goes on inside this line
      } else {
        next = lineEnd;
      }
    }
    lineStart = lineEnd;
  }
  return { kept, nextOffset: next };
}
