import { describe, expect, it } from 'vitest';
import type { LogChunk } from '../../src/backends/backend.js';
import { GLOG_HEADER, LineClassifier, type LinePart } from '../../src/backends/mesos/executor-lines.js';
import { readPart } from '../../src/backends/mesos/sandbox-logs.js';

// A run's log on Mesos is the program's output only: the command executor's own lines in the
// sandbox's stderr (glog, and the process trees of a kill) are kept apart, whole lines at a time,
// with byte offsets of the file, whatever the page size.

/** The recorded command executor's stderr (transcript 15), the program's line amid it. */
const RECORDED = [
  'I1122 08:58:06.702047 17519 exec.cpp:164] Version: 1.12.0',
  'I1122 08:58:06.705555 17534 exec.cpp:237] Executor registered on agent f7ea4980-33b8-41bb-a1ee-f61ef8f2aea2-S0',
  'I1122 08:58:06.706324 17534 executor.cpp:190] Received SUBSCRIBED event',
  'I1122 08:58:06.706580 17534 executor.cpp:194] Subscribed executor on 127.0.0.1',
  'I1122 08:58:06.707048 17539 executor.cpp:190] Received LAUNCH event',
  'I1122 08:58:06.707239 17539 executor.cpp:722] Starting task files-task',
  'I1122 08:58:06.718997 17539 executor.cpp:740] Forked command at 17542',
  'to-stderr',
  'I1122 08:58:06.903384 17538 executor.cpp:1041] Command exited with status 0 (pid: 17542)',
  'I1122 08:58:07.904909 17541 process.cpp:935] Stopped the socket accept loop',
  '',
].join('\n');

/** A kill as Mesos' command executor logs it: the process trees on plain lines. */
const KILL = [
  'I1207 00:04:09.100000 23917 executor.cpp:190] Received KILL event',
  'I1207 00:04:09.100100 23917 executor.cpp:835] Received kill for task t with grace period of 3secs',
  'I1207 00:04:09.100200 23917 executor.cpp:956] Sending SIGTERM to process tree at pid 23940',
  'I1207 00:04:09.100300 23917 executor.cpp:969] Sent SIGTERM to the following process trees:',
  '[ ',
  '-+- 23940 sh -c trap "" TERM; sleep 100 ',
  ' \\--- 23941 sleep 100 ',
  '',
  '--- 23950 other ',
  ']',
  'I1207 00:04:09.100400 23917 executor.cpp:973] Scheduling escalation to SIGKILL in 3secs from now',
  '',
].join('\n');

/** An in-memory file read as the agent's files API reads it (a short read = the end). */
function fileReader(text: string): (offset: number, maxBytes: number) => Promise<LogChunk> {
  const bytes = Buffer.from(text);
  return async (offset, maxBytes) => {
    const data = bytes.subarray(offset, offset + maxBytes);
    return {
      data,
      nextOffset: offset + data.length,
      size: data.length < maxBytes ? offset + data.length : null,
    };
  };
}

/** Reads one part of `text` page by page, as the logs route does; answers the text and the page count. */
async function readAll(
  text: string,
  part: LinePart,
  pageBytes: number,
): Promise<{ text: string; pages: number }> {
  const read = fileReader(text);
  let offset = 0;
  const out: Buffer[] = [];
  let pages = 0;
  for (; pages < 10_000; pages++) {
    const chunk = await readPart(read, offset, pageBytes, part);
    expect(chunk.data.length).toBeLessThanOrEqual(pageBytes);
    // A page ends at a character boundary whenever the room allows (4 bytes or more).
    if (pageBytes >= 4) expect(chunk.data.toString('utf8')).not.toContain('\uFFFD');
    out.push(chunk.data);
    offset = chunk.nextOffset;
    if (chunk.size !== null && chunk.nextOffset >= chunk.size && chunk.data.length === 0) break;
  }
  return { text: Buffer.concat(out).toString('utf8'), pages };
}

describe("the command executor's lines and the program's, apart", () => {
  it('keeps only the program line of the recorded stderr, and only the executor lines for stream=executor', async () => {
    expect((await readAll(RECORDED, 'program', 65_536)).text).toBe('to-stderr\n');
    expect((await readAll(RECORDED, 'executor', 65_536)).text).toBe(RECORDED.replace('to-stderr\n', ''));
  });

  it('gives the same text whatever the page size, multi-byte characters included', async () => {
    const text = `${RECORDED}héllo wörld ✓\n${KILL}tick 1\ntick 2\n`;
    const program = 'to-stderr\nhéllo wörld ✓\ntick 1\ntick 2\n';
    for (const page of [1, 2, 3, 5, 7, 64, 65_536]) {
      expect((await readAll(text, 'program', page)).text).toBe(program);
      expect((await readAll(text, 'executor', page)).text).toBe(
        text.replace('to-stderr\n', '').replace('héllo wörld ✓\n', '').replace('tick 1\ntick 2\n', ''),
      );
    }
  });

  it("leaves the process trees of a kill out, but not a program's own `]` or `--- 1` lines", async () => {
    const program = '[\n  1,\n  2\n]\n--- 1 not a tree\n';
    expect((await readAll(`${program}${KILL}${program}`, 'program', 65_536)).text).toBe(program + program);
    // A block that does not close with `]` ends at the first line that is not a tree's.
    const unclosed = `${KILL.split('\n').slice(0, 6).join('\n')}\nprogram again\n`;
    expect((await readAll(unclosed, 'program', 65_536)).text).toBe('program again\n');
  });

  it('shows a last line still without its newline, unless it may become an executor line', async () => {
    expect((await readAll('done\nno newline yet', 'program', 65_536)).text).toBe('done\nno newline yet');
    expect((await readAll('done\nI1207 00:04:0', 'program', 65_536)).text).toBe('done\n');
    expect(
      (await readAll('done\nI1207 00:04:06.763619 23917 exec.cpp:164] Vers', 'program', 65_536)).text,
    ).toBe('done\n');
    // `I am here` cannot be the start of a glog line.
    expect((await readAll('I am here', 'program', 65_536)).text).toBe('I am here');
  });

  it('answers the size once it reached the end, so a follower knows it is caught up; a held line is not counted', async () => {
    const text = 'a\nI1207 00:0';
    const chunk = await readPart(fileReader(text), 0, 65_536, 'program');
    expect(chunk).toMatchObject({ nextOffset: 2, size: 2 });
    expect(chunk.data.toString()).toBe('a\n');
  });

  it('reads on through a long run of executor lines to the next program line', async () => {
    const executorLines = Array.from(
      { length: 2_000 },
      (_, i) => `I1207 00:04:06.763619 23917 executor.cpp:190] Received event ${i}`,
    ).join('\n');
    const text = `${executorLines}\nthe program\n`;
    expect((await readPart(fileReader(text), 0, 100, 'program')).data.toString()).toBe('the program\n');
  });

  it('recognizes glog headers of every severity, and no plain text', () => {
    for (const line of [
      'I1207 00:04:06.763619 23917 exec.cpp:164] Version: 1.12.0',
      'W1207 00:04:06.763619    17 executor.cpp:230] Received acknowledgement',
      'E1207 00:04:06.763619 1 default_executor.cpp:595] Received',
    ])
      expect(GLOG_HEADER.test(line)).toBe(true);
    for (const line of ['I am here', 'Forked command at 23940', 'tick 1']) {
      expect(GLOG_HEADER.test(line)).toBe(false);
      expect(new LineClassifier().classify(line)).toBe('program');
    }
  });
});
