import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareEvent, compareResponse } from './support/compare.js';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';
import { loadTranscript, type RecordedRequest, type RecordedResponse } from './support/transcripts.js';

/**
 * A custom executor on the agent's executor API. The recorded executor (a Node script) is played
 * by fixtures/transcript-executor.mjs, which acts as it did and sends the same probe calls; both
 * the scheduler side (replay) and the executor side (what the fixture saw) are compared.
 */

const FIXTURE = fileURLToPath(new URL('./fixtures/transcript-executor.mjs', import.meta.url));

interface ExecutorSide {
  env: Record<string, string>;
  exchanges: Array<{ label: string; request: RecordedRequest; response?: RecordedResponse }>;
  events: Array<{ type: string; raw: string }>;
}

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 16-executor (fake master and agent vs Mesos 1.12)', () => {
  it('runs the custom executor with the recorded environment and answers its calls and events as the real agent did', async () => {
    const transcript = loadTranscript('16');
    const recordedSide = transcript.executor_side as unknown as ExecutorSide;
    const dir = mkdtempSync(join(tmpdir(), 'conformance-16-'));
    const out = join(dir, 'executor-side.json');
    const recordedCommand = '/usr/bin/node <RECORDER_DIR>/executor.js';
    const fakeCommand = `${process.execPath} ${FIXTURE}`;
    const recordedOut = recordedSide.env.TRANSCRIPT_OUT ?? '';
    try {
      const replay = await replayScenario(
        '16',
        {},
        {
          transformBody: (_seq, body) =>
            body.split(recordedCommand).join(fakeCommand).split(recordedOut).join(out),
          timeoutMs: 15_000,
        },
      );
      expect(replay.diffs).toEqual([]);
      const side = JSON.parse(readFileSync(out, 'utf8')) as ExecutorSide;
      replay.ids.link(recordedCommand, fakeCommand);
      replay.ids.link(recordedOut, out);
      const diffs: string[] = [];
      // Every call the executor made got the recorded status, headers and text.
      for (const recorded of recordedSide.exchanges) {
        const mine = side.exchanges.find((e) => e.label === recorded.label);
        if (mine?.response === undefined || recorded.response === undefined) {
          diffs.push(`executor call "${recorded.label}" was not made or not answered`);
          continue;
        }
        const response = {
          ...mine.response,
          statusText: mine.response.status_text,
          body: mine.response.body_raw,
        };
        diffs.push(
          ...compareResponse(`executor: ${recorded.label}`, recorded.response, response, replay.ids, {
            body: !recorded.label.startsWith('SUBSCRIBE ('),
          }),
        );
      }
      // Its events came in the recorded order, and SUBSCRIBED / LAUNCH / ACKNOWLEDGED / MESSAGE / KILL read the same.
      expect(side.events.map((e) => e.type)).toEqual(recordedSide.events.map((e) => e.type));
      side.events.forEach((event, i) => {
        const recorded = recordedSide.events[i];
        if (recorded !== undefined)
          diffs.push(
            ...compareEvent(`executor event ${i} ${event.type}`, recorded.raw, event.raw, replay.ids),
          );
      });
      expect(diffs).toEqual([]);
      // The executor environment has the recorded variables (values are checked in the processes tests).
      const names = (env: Record<string, string>): string[] =>
        Object.keys(env)
          .filter((name) => /^(MESOS_|LIBPROCESS_|EXEC_|TRANSCRIPT_)/.test(name))
          .sort();
      expect(names(side.env)).toEqual(names(recordedSide.env));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
