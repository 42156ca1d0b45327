import { describe, expect, it, vi } from 'vitest';
import { executorLogShape } from '../testing/support/executor-log.js';
import { rawRequest } from '../testing/support/wire-client.js';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';
import { loadTranscript } from './support/transcripts.js';

/**
 * The agent's files API. Answers whose bodies hold run-specific data (the state documents, file
 * sizes, owners, mtimes, the task's environment values, the command executor's own log lines in
 * stderr) are compared for status and headers by the replay, and for shape and content below:
 * stderr holds the same executor lines as the recorded one (times, thread ids and pids aside).
 */

const transcript = CONFORMANCE_AVAILABLE ? loadTranscript('15') : undefined;

function recordedBody(seq: number): string {
  return transcript?.exchanges.find((e) => e.seq === seq)?.response?.body_raw ?? '';
}

/** The sandbox of a framework's ended executor, from an agent's /state (the recorded agent lists earlier runs too). */
function completedDirectory(state: string, frameworkId: string, executorId: string): string | undefined {
  type Framework = { id: string; completed_executors: Array<{ id: string; directory: string }> };
  const parsed = JSON.parse(state) as { frameworks: Framework[]; completed_frameworks: Framework[] };
  return [...parsed.completed_frameworks, ...parsed.frameworks]
    .filter((f) => f.id === frameworkId)
    .flatMap((f) => f.completed_executors)
    .find((e) => e.id === executorId)?.directory;
}

describe.runIf(CONFORMANCE_AVAILABLE)(
  'conformance 15-files-api (fake master and agents vs Mesos 1.12)',
  () => {
    it('serves /state, /files/browse, /files/read, /files/download and /files/debug like the recorded agent', async () => {
      const answers = new Map<number, string>();
      let fakeDirectory = '';
      let agentUrl = '';
      const replay = await replayScenario(
        '15',
        {},
        {
          ignoreBody: [6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 18, 19, 24, 25],
          before: {
            10: async (r) => {
              agentUrl = r.urlOf('127.0.0.1:5051');
              const state = (await rawRequest(agentUrl, { method: 'GET', path: '/state' })).body;
              answers.set(6, state);
              fakeDirectory = completedDirectory(state, r.frameworkOfStream('S1') ?? '', 'files-task') ?? '';
              const recordedFramework = transcript?.volatile.values.FRAMEWORK_ID_1 ?? '';
              const recordedDirectory =
                completedDirectory(recordedBody(6), recordedFramework, 'files-task') ?? '';
              r.ids.link(recordedDirectory, fakeDirectory);
              r.ids.link(encodeURIComponent(recordedDirectory), encodeURIComponent(fakeDirectory));
              r.ids.link('127.0.0.1:5051', new URL(agentUrl).host);
            },
          },
        },
        async (r) => {
          const read = async (path: string): Promise<string> =>
            (await rawRequest(agentUrl, { method: 'GET', path })).body;
          const stdout = `path=${encodeURIComponent(`${fakeDirectory}/stdout`)}`;
          answers.set(10, await read(`/files/browse?path=${encodeURIComponent(fakeDirectory)}`));
          answers.set(13, await read(`/files/read?${stdout}&offset=0&length=100000`));
          answers.set(15, await read(`/files/read?${stdout}&offset=-1`));
          answers.set(18, await read(`/files/read?${stdout}`));
          answers.set(24, await read(`/files/download?${stdout}`));
          answers.set(25, await read('/files/debug'));
          // The executor's last line comes a second after its terminal update, as recorded.
          const stderr = `/frameworks/${r.frameworkOfStream('S1') ?? ''}/executors/files-task/runs/latest/stderr`;
          answers.set(
            19,
            await vi.waitFor(
              async () => {
                const body = await read(`/files/read?path=${encodeURIComponent(stderr)}&offset=0`);
                if (!body.includes('Stopped the socket accept loop'))
                  throw new Error('executor still stopping');
                return body;
              },
              { timeout: 10_000, interval: 50 },
            ),
          );
        },
      );
      expect(replay.diffs).toEqual([]);
      // The sandbox is found where the recorded agent showed it: completed_executors[].directory.
      expect(fakeDirectory).toContain(`/executors/files-task/runs/`);
      // browse: one entry per file, fields in the recorded order, host paths under the sandbox.
      const browse = JSON.parse(answers.get(10) ?? '[]') as Array<Record<string, unknown>>;
      const recordedBrowse = JSON.parse(recordedBody(10)) as Array<Record<string, unknown>>;
      expect(browse.map((entry) => Object.keys(entry))).toEqual(
        recordedBrowse.map((entry) => Object.keys(entry)),
      );
      expect(browse.map((entry) => entry.path)).toEqual([
        `${fakeDirectory}/stderr`,
        `${fakeDirectory}/stdout`,
      ]);
      // read: {"data","offset"}; the task printed the command-task environment: same variable names,
      // and the same values once ids, paths and ports are mapped.
      const full = JSON.parse(answers.get(13) ?? '{}') as { data: string; offset: number };
      const recordedFull = JSON.parse(recordedBody(13)) as { data: string };
      expect(Object.keys(full)).toEqual(['data', 'offset']);
      const lines = (text: string, side: 'recorded' | 'fake'): string[] =>
        r_normalize(text, side).trim().split('\n').sort();
      const r_normalize = (text: string, side: 'recorded' | 'fake'): string =>
        replay.ids.normalize(text, side);
      expect(lines(full.data, 'fake')).toEqual(lines(recordedFull.data, 'recorded'));
      const size = Buffer.byteLength(full.data);
      expect(answers.get(15)).toBe(`{"data":"","offset":${size}}`);
      expect(answers.get(18)).toBe(`{"data":"","offset":${size}}`);
      expect(answers.get(24)).toBe(full.data);
      // stderr: the program's line amid the command executor's glog lines, the same lines as recorded.
      const recordedStderr = executorLogShape((JSON.parse(recordedBody(19)) as { data: string }).data);
      const fakeStderr = executorLogShape((JSON.parse(answers.get(19) ?? '{}') as { data: string }).data);
      const withoutProgram = (lines: string[]) => lines.filter((line) => line !== 'to-stderr');
      expect(withoutProgram(fakeStderr)).toEqual(withoutProgram(recordedStderr));
      expect(fakeStderr).toContain('to-stderr');
      // debug: the virtual "runs/latest" path maps to the sandbox.
      const debug = JSON.parse(answers.get(25) ?? '{}') as Record<string, string>;
      const frameworkId = replay.frameworkOfStream('S1') ?? '';
      expect(debug[`/frameworks/${frameworkId}/executors/files-task/runs/latest`]).toBe(fakeDirectory);
    });
  },
);
