import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TaskStatus } from '@galley/mesos';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrackedTask } from '../../src/backends/mesos/attempts.js';
import { MesosUsage, nextPollDelayMs } from '../../src/backends/mesos/usage-poller.js';
import {
  memoryLimitation,
  parseStatistics,
  parseStoutBytes,
  withUsage,
} from '../../src/backends/mesos/usage.js';

// Usage on Mesos, the units: the agent's /monitor/statistics as samples, the cgroups/mem
// isolator's OOM message as Galley's exit reason and run exception, and the poller against a real
// HTTP endpoint that answers as an agent does.

const MB = 1024 * 1024;

function entry(executorId: string, statistics: Record<string, number>) {
  return { executor_id: executorId, executor_name: 'x', framework_id: 'fw', source: executorId, statistics };
}

const OOM: TaskStatus = {
  task_id: { value: 'run-1.1' },
  state: 'TASK_FAILED',
  source: 'SOURCE_AGENT',
  reason: 'REASON_CONTAINER_LIMITATION_MEMORY',
  message:
    'Memory limit exceeded: Requested: 96MB Maximum Used: 99104KB\n\nMEMORY STATISTICS: \ncache 0\nrss 100\n\n',
} as TaskStatus;

const ended = {
  type: 'ended' as const,
  attemptId: 'run-1.1',
  at: 5_000,
  outcome: { kind: 'exited' as const, exitCode: 1 },
};

describe('Mesos usage: statistics and OOM (units)', () => {
  it('reads rss and CPU seconds of each executor from /monitor/statistics, leaving out what is not an entry', () => {
    const samples = parseStatistics(
      [
        entry('a.1', {
          timestamp: 1700000000.5,
          mem_rss_bytes: 100 * MB,
          cpus_user_time_secs: 1.25,
          cpus_system_time_secs: 0.25,
        }),
        entry('b.1', { mem_total_bytes: 5 }),
        { executor_id: 'c.1' },
        'junk',
      ],
      42,
    );
    expect(samples).toEqual([
      { executorId: 'a.1', frameworkId: 'fw', memoryBytes: 100 * MB, cpuNs: 1.5e9, at: 1700000000500 },
      { executorId: 'b.1', frameworkId: 'fw', memoryBytes: null, cpuNs: null, at: 42 },
    ]);
    expect(parseStatistics({ not: 'an array' }, 0)).toEqual([]);
  });

  it("reads sizes as stout prints them, and the isolator's limit and peak", () => {
    expect(parseStoutBytes('96MB')).toBe(96 * MB);
    expect(parseStoutBytes('99104KB')).toBe(99104 * 1024);
    expect(parseStoutBytes('2GB')).toBe(2 * 1024 * MB);
    expect(parseStoutBytes('12B')).toBe(12);
    expect(parseStoutBytes('lots')).toBeNull();
    expect(memoryLimitation(OOM.message)).toEqual({ requested: 96 * MB, maxUsed: 99104 * 1024 });
    expect(memoryLimitation('Memory limit exceeded: Requested: 64MB \n')).toEqual({
      requested: 64 * MB,
      maxUsed: null,
    });
  });

  it("ends an OOM-killed attempt as out of memory at the run's limit, with the peak and the agent's words in run_exceptions", () => {
    const e = withUsage(ended, OOM, 64, { maxMemoryMb: 60, maxCpuMillicores: 900 });
    expect(e.outcome).toEqual({ kind: 'killed', message: 'out of memory (limit 64 MB)' });
    expect(e.usage).toEqual({
      maxMemoryMb: 97,
      maxCpuMillicores: 900,
      exceptions: [
        'out of memory: the kernel killed it at its memory limit of 64 MB (peak 97 MB); the agent said: Memory limit exceeded: Requested: 96MB Maximum Used: 99104KB',
      ],
    });
    // A run whose memory is not known any more (after a restart): the limit the agent names.
    expect(withUsage(ended, OOM, null, undefined).outcome).toEqual({
      kind: 'killed',
      message: 'out of memory (limit 96 MB)',
    });
  });

  it('leaves any other end as it is, with the measured usage when there is some', () => {
    const finished = {
      ...OOM,
      state: 'TASK_FINISHED',
      reason: undefined,
      message: 'Command exited with status 0',
    } as TaskStatus;
    expect(withUsage(ended, finished, 64, undefined)).toBe(ended);
    expect(withUsage(ended, finished, 64, { maxMemoryMb: 10, maxCpuMillicores: null })).toEqual({
      ...ended,
      usage: { maxMemoryMb: 10, maxCpuMillicores: null },
    });
  });
});

describe('Mesos usage poller against an agent endpoint', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  function task(attemptId: string, fields: Partial<TrackedTask> = {}): TrackedTask {
    return {
      attemptId,
      agentId: 'agent-1',
      hostname: 'h',
      phase: 'running',
      cpus: 1,
      memMb: 256,
      since: 1_000,
      lastUpdateAt: 1_000,
      unreachableSince: null,
      reconciledAt: null,
      killGraceMs: null,
      container: 'mesos',
      executorId: null,
      ...fields,
    };
  }

  it('keeps the peak rss and CPU rate of running attempts across polls and hands them over at the end', async () => {
    // Each GET answers the next reading: memory rises to 120 MB then falls; CPU: 1 s over 1 s.
    const readings = [
      [
        entry('run-1.1', { timestamp: 10, mem_rss_bytes: 50 * MB, cpus_user_time_secs: 1 }),
        entry('other', { timestamp: 10, mem_rss_bytes: 900 * MB }),
      ],
      [
        entry('run-1.1', {
          timestamp: 11,
          mem_rss_bytes: 120 * MB,
          cpus_user_time_secs: 1.5,
          cpus_system_time_secs: 0.5,
        }),
      ],
      [
        entry('run-1.1', {
          timestamp: 12,
          mem_rss_bytes: 30 * MB,
          cpus_user_time_secs: 2,
          cpus_system_time_secs: 0.5,
        }),
      ],
    ];
    const paths: string[] = [];
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(readings.shift() ?? []));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tasks = [
      task('run-1.1'),
      task('shared.1', { executorId: 'galley-executor-1' }),
      task('new.1', { phase: 'launching' }),
    ];
    const usage = new MesosUsage({
      tasks: () => tasks.values(),
      agentUrl: (id) => (id === 'agent-1' ? url : null),
      authorization: {},
      clock: { now: () => 20_000 },
      logger: pino({ level: 'silent' }),
    });
    for (let i = 0; i < 3; i++) await usage.poll();
    expect(paths).toEqual(['/monitor/statistics', '/monitor/statistics', '/monitor/statistics']);
    const [done] = usage.ended(
      [ended],
      { ...OOM, state: 'TASK_FINISHED', reason: undefined } as TaskStatus,
      256,
    );
    expect(done).toMatchObject({ usage: { maxMemoryMb: 120, maxCpuMillicores: 1000 } });
    // Handed over once: a repeated end has nothing more.
    expect(
      usage.ended([ended], { ...OOM, state: 'TASK_FINISHED', reason: undefined } as TaskStatus, 256),
    ).toEqual([ended]);
  });

  it('spaces rounds so that polling takes at most a twentieth of the time, never more often than the interval', () => {
    // A small cluster is read every interval; 600 ms of parsing (100,000 attempts) waits 12 s.
    expect(nextPollDelayMs(2_000, 3)).toBe(2_000);
    expect(nextPollDelayMs(2_000, 100)).toBe(2_000);
    expect(nextPollDelayMs(2_000, 600)).toBe(12_000);
    expect(nextPollDelayMs(500, 40)).toBe(800);
  });
});
