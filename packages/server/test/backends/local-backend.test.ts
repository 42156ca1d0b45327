import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePipelineSpec } from '@galley/core';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendEvent, LaunchSpec } from '../../src/backends/backend.js';
import type { GroupEvent, GroupLaunch } from '../../src/backends/group-runner.js';
import { attemptDir, readLogChunk } from '../../src/backends/local/attempt-files.js';
import { processDir } from '../../src/backends/local/group-process.js';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { systemClock } from '../../src/clock.js';
import type { AttemptRecord } from '../../src/model/records.js';
import { groupAlive } from '../pipelines/harness.js';

// The local backend against real /bin/sh processes.

/** How long a wait may take: generous, so a loaded machine passes; a real failure still ends it. */
const PATIENCE_MS = 60_000;

const dirs: string[] = [];
const backends: LocalBackend[] = [];
/** Process groups a test must not leave behind, whatever happened: SIGKILLed after it. */
const groups: number[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
  for (const pgid of groups.splice(0)) if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
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
  backend.onEvents((batch) => {
    events.push(...batch);
  });
  await backend.start();
  /** Waits (vi.waitFor, generous for a loaded machine) until an event matching `pred` was delivered. */
  const waitFor = (pred: (e: BackendEvent) => boolean): Promise<BackendEvent> =>
    vi.waitFor(
      () => {
        const hit = events.find(pred);
        if (!hit) throw new Error(`no matching event; got ${JSON.stringify(events)}`);
        return hit;
      },
      { timeout: PATIENCE_MS, interval: 10 },
    );
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
  await untilFileSays(join(attemptDir(dataDir, s.runId, s.seq), 'pid'), /^\d+\n$/);
}

/** Waits (vi.waitFor) until the file at `path` matches `pattern`. */
async function untilFileSays(path: string, pattern: RegExp): Promise<void> {
  await vi.waitFor(async () => expect(await readFile(path, 'utf8').catch(() => '')).toMatch(pattern), {
    timeout: PATIENCE_MS,
    interval: 10,
  });
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

// Generous timeouts: a loaded machine starts processes slowly; a failure still ends the test.
describe('local backend (real processes)', { timeout: 120_000 }, () => {
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
    await untilFileSays(join(attemptDir(dataDir, s.runId, 1), 'stdout'), /started/); // the command itself runs
    expect(await backend.kill(s.attemptId, 10_000)).toBe('signalled');
    const end = await waitFor(ended(s.attemptId));
    // SIGTERM ended it (143), not the SIGKILL that the 10 s grace would have ended with.
    expect(end).toMatchObject({ outcome: { kind: 'exited', exitCode: 143 } });
    expect(await backend.kill(s.attemptId, 10)).toBe('not-running');
  });

  it('sends SIGKILL after the grace period to a command that ignores SIGTERM', async () => {
    const { backend, dataDir, waitFor } = await makeBackend();
    const s = spec("trap '' TERM; echo ready; sleep 30");
    await backend.launch({ runs: [s], groups: [] });
    await waitFor(running(s.attemptId));
    // Until the command's own trap is installed.
    await untilFileSays(join(attemptDir(dataDir, s.runId, 1), 'stdout'), /ready/);
    const started = Date.now();
    await backend.kill(s.attemptId, 400);
    const end = await waitFor(ended(s.attemptId));
    // A lower bound (taken before the kill), which a loaded machine can only lengthen: the 400 ms
    // grace was given before the SIGKILL.
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(end).toMatchObject({ outcome: { kind: 'killed' } });
  });

  it('finds attempts again after a restart: adopts live ones, reads exits that happened while down, reports lost and never-started ones', async () => {
    const first = await makeBackend();
    // The live one runs until the test opens its gate: still running when found again, however slow the machine.
    const gate = join(first.dataDir, 'live.gate');
    const live = spec(`while [ ! -e ${gate} ]; do sleep 0.05; done; exit 4`);
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
    await writeFile(gate, '');
    const end = await second.waitFor(ended(live.attemptId));
    expect(end).toMatchObject({ outcome: { kind: 'exited', exitCode: 4 } });
  });

  it('keeps watching its attempts when the spawner dies, and reports their ends', async () => {
    const { backend, dataDir, waitFor } = await makeBackend();
    // It runs until the test opens its gate, after the spawner is gone.
    const gate = join(dataDir, 'spawner.gate');
    const s = spec(`while [ ! -e ${gate} ]; do sleep 0.05; done; exit 5`);
    await backend.launch({ runs: [s], groups: [] });
    await waitFor(running(s.attemptId));
    process.kill(backend.spawnerPid!, 'SIGKILL');
    await writeFile(gate, '');
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

// Issue 12 item 4: a stop (of a run) and a delete (of a pipeline instance) kill the whole process
// group: SIGTERM, the grace period, then SIGKILL to the group even when the main process ended.

/** A command whose main process ends on SIGTERM while a background child in its group ignores it. */
const STUBBORN_CHILD = `sh -c 'trap "" TERM; echo ready; exec sleep 1000' & wait`;

/** Waits until `path` says `ready`: the TERM-ignoring child's trap is in place. */
async function childReady(path: string): Promise<void> {
  await untilFileSays(path, /ready/);
}

/**
 * Waits until no process of the group `pgid` is left, and checks that this took the grace period
 * at least since `asked` (taken before the stop): the TERM-ignoring child outlived the SIGTERM and
 * went with the SIGKILL at the end of the grace. A lower bound, which load can only lengthen (the
 * group's being alive when the main process's end is seen would be a race on a loaded machine).
 */
async function groupGone(pgid: number, asked: number, graceMs: number): Promise<void> {
  await vi.waitFor(() => expect(groupAlive(pgid)).toBe(false), { timeout: PATIENCE_MS, interval: 20 });
  expect(Date.now() - asked).toBeGreaterThanOrEqual(graceMs - 10);
}

describe('stop and delete kill the whole process group (real processes)', { timeout: 120_000 }, () => {
  it('a stopped run: its main process ends on SIGTERM, and after the grace period no process of its group is left', async () => {
    const { backend, dataDir, waitFor } = await makeBackend();
    const s = spec(STUBBORN_CHILD);
    await backend.launch({ runs: [s], groups: [] });
    const r = (await waitFor(running(s.attemptId))) as Extract<BackendEvent, { type: 'running' }>;
    const pgid = r.handle['pid'] as number;
    groups.push(pgid);
    await childReady(join(attemptDir(dataDir, s.runId, 1), 'stdout'));
    const asked = Date.now();
    expect(await backend.kill(s.attemptId, 500)).toBe('signalled');
    // The main process ended on SIGTERM; its group outlives it (the child ignores SIGTERM) …
    expect(await waitFor(ended(s.attemptId))).toMatchObject({ outcome: { kind: 'exited', exitCode: 143 } });
    // … until the SIGKILL at the end of the grace period.
    await groupGone(pgid, asked, 500);
  });

  it('a stopped adopted run (found again after a restart): the same, from the stored handle', async () => {
    const first = await makeBackend();
    const s = spec(STUBBORN_CHILD);
    await first.backend.launch({ runs: [s], groups: [] });
    const r = (await first.waitFor(running(s.attemptId))) as Extract<BackendEvent, { type: 'running' }>;
    const pgid = r.handle['pid'] as number;
    groups.push(pgid);
    await childReady(join(attemptDir(first.dataDir, s.runId, 1), 'stdout'));
    await first.backend.close(); // the server "dies"; the processes do not
    const second = await makeBackend({ dataDir: first.dataDir });
    const answers = await second.backend.reconcile([
      { attempt: attemptRecord(s, r.handle, 'running'), cpus: 1, memMb: 1 },
    ]);
    expect(answers).toEqual([expect.objectContaining({ state: 'running', handle: r.handle })]);
    const asked = Date.now();
    expect(await second.backend.kill(s.attemptId, 500)).toBe('signalled');
    expect(await second.waitFor(ended(s.attemptId))).toMatchObject({
      outcome: { kind: 'exited', exitCode: 143 },
    });
    await groupGone(pgid, asked, 500);
  });

  it('a deleted pipeline instance: its process ends on SIGTERM, and after its kill_grace_period no process of its group is left', async () => {
    const { backend, dataDir } = await makeBackend();
    const events: GroupEvent[] = [];
    backend.groups.onEvents(async (batch) => {
      events.push(...batch);
      return Promise.resolve();
    });
    const parsed = parsePipelineSpec({
      id: 'stubborn',
      processes: {
        worker: {
          command: STUBBORN_CHILD,
          shell: true,
          resources: { cpu: 0.1, mem: 16 },
          kill_grace_period: 0.5,
        },
      },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const launch: GroupLaunch = {
      launchId: `stubborn$1.1.${process.pid}`,
      pipelineId: 'stubborn',
      instanceId: 'stubborn.1',
      spec: parsed.spec,
      queuedAt: 0,
    };
    await backend.launch({ runs: [], groups: [{ launch, nodeId: 'local', ports: {} }] });
    const find = <T extends GroupEvent>(pred: (e: GroupEvent) => e is T): Promise<T> =>
      vi.waitFor(() => events.find(pred) ?? Promise.reject(new Error(JSON.stringify(events))), {
        timeout: PATIENCE_MS,
        interval: 20,
      });
    const r = await find(
      (e): e is Extract<GroupEvent, { type: 'process-state' }> =>
        e.type === 'process-state' && e.state === 'TASK_RUNNING',
    );
    const pgid = r.handle!['pid'] as number;
    groups.push(pgid);
    await childReady(join(processDir(dataDir, launch.launchId, 'worker'), 'stdout'));
    const asked = Date.now();
    await backend.groups.kill(launch.launchId);
    expect(
      await find((e): e is Extract<GroupEvent, { type: 'process-ended' }> => e.type === 'process-ended'),
    ).toMatchObject({ end: { state: 'TASK_KILLED', exitCode: 143 } });
    await groupGone(pgid, asked, 500);
  });
});
