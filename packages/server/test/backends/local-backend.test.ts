import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { BackendEvent, LaunchSpec } from '../../src/backends/backend.js';
import { attemptDir, readLogChunk } from '../../src/backends/local/attempt-files.js';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { systemClock } from '../../src/clock.js';
import type { AttemptRecord } from '../../src/model/records.js';

// The local backend against real /bin/sh processes.

const dirs: string[] = [];
const backends: LocalBackend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function makeBackend(over: { cpus?: number; memoryMb?: number; dataDir?: string } = {}) {
  const dataDir = over.dataDir ?? (await mkdtemp(join(tmpdir(), 'galley-local-')));
  if (!over.dataDir) dirs.push(dataDir);
  const backend = new LocalBackend({
    cluster: 'local',
    dataDir,
    cpus: over.cpus ?? 2,
    memoryMb: over.memoryMb ?? 1024,
    adoptCheckMs: 20,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
  });
  backends.push(backend);
  const events: BackendEvent[] = [];
  const waiters: (() => void)[] = [];
  backend.onEvents((batch) => {
    events.push(...batch);
    for (const w of waiters.splice(0)) w();
  });
  await backend.start();
  /** Waits until an event matching `pred` was delivered (deadline 20 s). */
  const waitFor = async (pred: (e: BackendEvent) => boolean): Promise<BackendEvent> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const hit = events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching event; got ${JSON.stringify(events)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  return { backend, dataDir, events, waitFor };
}

let counter = 0;
function spec(command: string, over: Partial<LaunchSpec> = {}): LaunchSpec {
  const runId = `run-${process.pid}-${counter++}`;
  return {
    attemptId: `${runId}.1`,
    runId,
    seq: 1,
    nodeId: 'local',
    image: 'ubuntu:latest',
    command,
    env: [],
    cpus: 0.5,
    memMb: 128,
    gpus: 0,
    ...over,
  };
}

/** Waits until the supervisor recorded its pid (its signal trap is installed by then). */
async function supervisorReady(dataDir: string, s: LaunchSpec): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (
      /^\d+\n$/.test(await readFile(join(attemptDir(dataDir, s.runId, s.seq), 'pid'), 'utf8').catch(() => ''))
    )
      return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('supervisor did not start');
}

const ended = (id: string) => (e: BackendEvent) => e.type === 'ended' && e.attemptId === id;
const running = (id: string) => (e: BackendEvent) => e.type === 'running' && e.attemptId === id;

function attemptRecord(
  s: LaunchSpec,
  handle: Record<string, unknown> | null,
  state: AttemptRecord['state'],
): AttemptRecord {
  return {
    attemptId: s.attemptId,
    runId: s.runId,
    seq: s.seq,
    cluster: 'local',
    nodeId: 'local',
    epoch: 1,
    state,
    handle,
    outcome: null,
    createdAt: 0,
    launchedAt: null,
    endedAt: null,
  };
}

describe('local backend (real processes)', () => {
  it('runs the command through /bin/sh with the given env, captures stdout and stderr, and reports exit 0', async () => {
    const { backend, dataDir, waitFor } = await makeBackend();
    process.env['GALLEY_TEST_SECRET'] = 'do-not-leak';
    const s = spec(
      'echo "hello ${USERNAME}"; echo "id=$GALLEY_RUN_ID secret=${GALLEY_TEST_SECRET:-none}"; echo oops >&2',
      {
        env: [
          { name: 'USERNAME', value: 'yourusername' },
          { name: 'GALLEY_RUN_ID', value: 'r-1' },
        ],
      },
    );
    await backend.launch({ runs: [s], groups: [] });
    const run = await waitFor(running(s.attemptId));
    expect(run).toMatchObject({ handle: { pid: expect.any(Number) } });
    const end = await waitFor(ended(s.attemptId));
    expect(end).toMatchObject({ outcome: { kind: 'exited', exitCode: 0 } });
    const dir = attemptDir(dataDir, s.runId, 1);
    expect(await readFile(join(dir, 'stdout'), 'utf8')).toBe('hello yourusername\nid=r-1 secret=none\n');
    expect(await readFile(join(dir, 'stderr'), 'utf8')).toBe('oops\n');
    expect(await readFile(join(dir, 'exit'), 'utf8')).toBe('0\n');
  });

  it("reports a failing command's exit code", async () => {
    const { backend, waitFor } = await makeBackend();
    const s = spec('exit 3');
    await backend.launch({ runs: [s], groups: [] });
    expect(await waitFor(ended(s.attemptId))).toMatchObject({ outcome: { kind: 'exited', exitCode: 3 } });
  });

  it('counts running attempts against its capacity and frees it when they end', async () => {
    const { backend, waitFor } = await makeBackend({ cpus: 2, memoryMb: 1000 });
    const s = spec('sleep 0.3', { cpus: 1.5, memMb: 600 });
    await backend.launch({ runs: [s], groups: [] });
    expect(backend.capacity()[0]!.free).toMatchObject({ cpus: 0.5, memMb: 400 });
    await waitFor(ended(s.attemptId));
    expect(backend.capacity()[0]!.free).toMatchObject({ cpus: 2, memMb: 1000 });
    expect(backend.describe()).toMatchObject({
      runsOnHost: true,
      running: 0,
      capacity: { cpus: 2, memMb: 1000 },
    });
  });

  it('stops a run with SIGTERM to its process group', async () => {
    const { backend, dataDir, waitFor } = await makeBackend();
    const s = spec('sleep 30 & echo started; sleep 30; wait');
    await backend.launch({ runs: [s], groups: [] });
    await waitFor(running(s.attemptId));
    const stdout = join(attemptDir(dataDir, s.runId, 1), 'stdout');
    for (let i = 0; i < 1000 && !(await readFile(stdout, 'utf8')).includes('started'); i++) {
      await new Promise((r) => setTimeout(r, 10)); // until the command itself runs
    }
    const started = Date.now();
    expect(await backend.kill(s.attemptId, 10_000)).toBe('signalled');
    const end = await waitFor(ended(s.attemptId));
    expect(end).toMatchObject({ outcome: { kind: 'exited', exitCode: 143 } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await backend.kill(s.attemptId, 10)).toBe('not-running');
  });

  it('sends SIGKILL after the grace period to a command that ignores SIGTERM', async () => {
    const { backend, dataDir, waitFor } = await makeBackend();
    const s = spec("trap '' TERM; echo ready; sleep 30");
    await backend.launch({ runs: [s], groups: [] });
    await waitFor(running(s.attemptId));
    const stdout = join(attemptDir(dataDir, s.runId, 1), 'stdout');
    for (let i = 0; i < 1000 && !(await readFile(stdout, 'utf8')).includes('ready'); i++) {
      await new Promise((r) => setTimeout(r, 10)); // until the command's own trap is installed
    }
    const started = Date.now();
    await backend.kill(s.attemptId, 400);
    const end = await waitFor(ended(s.attemptId));
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(end).toMatchObject({ outcome: { kind: 'killed' } });
  });

  it('finds attempts again after a restart: adopts live ones, reads exits that happened while down, reports lost and never-started ones', async () => {
    const first = await makeBackend();
    const live = spec('sleep 0.8; exit 4');
    const done = spec('exit 7');
    await first.backend.launch({ runs: [live, done], groups: [] });
    const liveRunning = (await first.waitFor(running(live.attemptId))) as Extract<
      BackendEvent,
      { type: 'running' }
    >;
    await first.waitFor(ended(done.attemptId));
    await first.backend.close(); // the server "dies"; the processes do not

    const second = await makeBackend({ dataDir: first.dataDir });
    const never = spec('echo never');
    const lost = spec('true');
    const lostDir = attemptDir(first.dataDir, lost.runId, 1);
    await mkdir(lostDir, { recursive: true });
    const deadPid = Number(execFileSync('/bin/sh', ['-c', 'sh -c "echo \\$\\$"']).toString().trim());
    await writeFile(join(lostDir, 'pid'), `${deadPid}\n`);

    const answers = await second.backend.reconcile([
      { attempt: attemptRecord(live, liveRunning.handle, 'running'), cpus: 1, memMb: 100 },
      { attempt: attemptRecord(done, null, 'running'), cpus: 1, memMb: 100 },
      { attempt: attemptRecord(never, null, 'launching'), cpus: 1, memMb: 100 },
      { attempt: attemptRecord(lost, null, 'running'), cpus: 1, memMb: 100 },
    ]);
    expect(answers).toEqual([
      expect.objectContaining({ attemptId: live.attemptId, state: 'running' }),
      expect.objectContaining({
        attemptId: done.attemptId,
        state: 'ended',
        outcome: { kind: 'exited', exitCode: 7 },
      }),
      { attemptId: never.attemptId, state: 'absent' },
      expect.objectContaining({
        attemptId: lost.attemptId,
        state: 'ended',
        outcome: expect.objectContaining({ kind: 'host-failure', reason: 'lost' }),
      }),
    ]);
    expect(second.backend.capacity()[0]!.free.cpus).toBe(1); // the adopted attempt holds its resources
    const end = await second.waitFor(ended(live.attemptId));
    expect(end).toMatchObject({ outcome: { kind: 'exited', exitCode: 4 } });
  });

  it('keeps watching its attempts when the spawner dies, and reports their ends', async () => {
    const { backend, waitFor } = await makeBackend();
    const s = spec('sleep 0.5; exit 5');
    await backend.launch({ runs: [s], groups: [] });
    await waitFor(running(s.attemptId));
    process.kill(backend.spawnerPid!, 'SIGKILL');
    expect(await waitFor(ended(s.attemptId))).toMatchObject({ outcome: { kind: 'exited', exitCode: 5 } });
    // A new spawner takes over for the next launch.
    const next = spec('exit 6');
    await backend.launch({ runs: [next], groups: [] });
    expect(await waitFor(ended(next.attemptId))).toMatchObject({ outcome: { kind: 'exited', exitCode: 6 } });
  });

  it('stops an adopted process', async () => {
    const first = await makeBackend();
    const s = spec('sleep 30');
    await first.backend.launch({ runs: [s], groups: [] });
    const r = (await first.waitFor(running(s.attemptId))) as Extract<BackendEvent, { type: 'running' }>;
    await supervisorReady(first.dataDir, s);
    await first.backend.close();
    const second = await makeBackend({ dataDir: first.dataDir });
    await second.backend.reconcile([{ attempt: attemptRecord(s, r.handle, 'running'), cpus: 1, memMb: 1 }]);
    expect(await second.backend.kill(s.attemptId, 5_000)).toBe('signalled');
    expect(await second.waitFor(ended(s.attemptId))).toMatchObject({
      outcome: { kind: 'exited', exitCode: 143 },
    });
  });

  it('pages a multi-MB log with reads the size of the page', async () => {
    const { backend, dataDir, waitFor } = await makeBackend();
    const s = spec(
      'i=0; while [ $i -lt 60000 ]; do echo "line $i of the log, padded to be long enough"; i=$((i+1)); done',
    );
    await backend.launch({ runs: [s], groups: [] });
    await waitFor(ended(s.attemptId));
    const whole = await readFile(join(attemptDir(dataDir, s.runId, 1), 'stdout'));
    expect(whole.length).toBeGreaterThan(2_000_000);
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const chunk = await backend.logs(
        { runId: s.runId, attemptId: s.attemptId, seq: 1 },
        'stdout',
        offset,
        256 * 1024,
      );
      if (chunk.data.length === 0) break;
      expect(chunk.data.length).toBeLessThanOrEqual(256 * 1024);
      parts.push(chunk.data);
      offset = chunk.nextOffset;
    }
    expect(Buffer.concat(parts).equals(whole)).toBe(true);
    // A 64 GiB (sparse) log: reading it whole would be impossible; a page at its end is instant.
    const huge = join(dataDir, 'huge.log');
    await writeFile(huge, '');
    await truncate(huge, 64 * 1024 ** 3);
    const page = await readLogChunk(huge, 64 * 1024 ** 3 - 10, 4096);
    expect(page).toMatchObject({ nextOffset: 64 * 1024 ** 3, size: 64 * 1024 ** 3 });
    expect(page.data.length).toBe(10);
  });
});
