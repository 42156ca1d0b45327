import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendEvent, LaunchSpec } from '../../src/backends/backend.js';
import { attemptDir, capLogFile, logCapNote } from '../../src/backends/local/attempt-files.js';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { systemClock } from '../../src/clock.js';

// A job's output must not fill the disk: each attempt's stdout and stderr are kept within the
// configured cap, the log says where it was cut, and what came first is kept (real processes).

const CAP = 64 * 1024;
const PATIENCE_MS = 60_000;
const dirs: string[] = [];
const backends: LocalBackend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function start(command: string): Promise<{ file: (s: string) => Promise<string> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'galley-logcap-'));
  dirs.push(dataDir);
  const backend = new LocalBackend({
    cluster: 'local',
    dataDir,
    cpus: 2,
    memoryMb: 1024,
    adoptCheckMs: 20,
    usageSampleMs: 20,
    logMaxBytes: CAP,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
  });
  backends.push(backend);
  const events: BackendEvent[] = [];
  backend.onEvents((batch) => void events.push(...batch));
  await backend.start();
  const runId = `cap-${process.pid}-${dirs.length}`;
  const spec: LaunchSpec = {
    attemptId: `${runId}.1`,
    runId,
    seq: 1,
    nodeId: 'local',
    image: 'none',
    command,
    env: [],
    cpus: 0.1,
    memMb: 64,
    gpus: 0,
  };
  await backend.launch({ runs: [spec], groups: [] });
  await vi.waitFor(
    () => expect(events.some((e) => e.type === 'ended' && e.attemptId === spec.attemptId)).toBe(true),
    { timeout: PATIENCE_MS, interval: 20 },
  );
  const dir = attemptDir(dataDir, runId, 1);
  return { file: (s) => readFile(join(dir, s), 'utf8') };
}

describe('local log cap (real processes)', { timeout: 120_000 }, () => {
  it('cuts a log that outgrows the cap while the job runs, keeps its head, and says so where it cut', async () => {
    // 1 MiB of numbered lines, slowly enough that the cap is applied while the job still writes.
    const { file } = await start(
      'i=0; while [ $i -lt 2000 ]; do printf "line %04d %0500d\\n" $i 0; i=$((i+1)); [ $((i % 200)) -eq 0 ] && sleep 0.05; done; echo done >&2',
    );
    const out = await vi.waitFor(
      async () => {
        const text = await file('stdout');
        expect(text.endsWith(logCapNote(CAP))).toBe(true);
        return text;
      },
      { timeout: PATIENCE_MS, interval: 20 },
    );
    expect(Buffer.byteLength(out)).toBe(CAP + Buffer.byteLength(logCapNote(CAP)));
    expect(out.startsWith('line 0000 ')).toBe(true);
    expect(await file('stderr')).toBe('done\n'); // a small stream is left alone
  });

  it('cuts what a short job wrote after the last look, once it has ended', async () => {
    const { file } = await start('head -c 1048576 /dev/zero | tr "\\000" a');
    await vi.waitFor(async () => expect((await file('stdout')).endsWith(logCapNote(CAP))).toBe(true), {
      timeout: PATIENCE_MS,
      interval: 20,
    });
    const out = await file('stdout');
    expect(out.slice(0, CAP)).toBe('a'.repeat(CAP));
  });

  it('capLogFile leaves a file within the cap (and a missing one) alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'galley-logcap-'));
    dirs.push(dir);
    expect(await capLogFile(join(dir, 'missing'), CAP)).toBe(false);
  });
});
