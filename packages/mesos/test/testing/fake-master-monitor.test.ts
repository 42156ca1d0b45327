import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import { parseProcStat } from '../../src/testing/agent/monitor-readings.js';
import { createArgs, memoryLimitation, stoutBytes } from '../../src/testing/agent/image-runner.js';
import { imageToRun } from '../../src/testing/agent/image-runtime.js';
import { resolveContainerizer } from '../../src/testing/options.js';
import { commandTask, launch, subscribeScheduler } from './support/test-scheduler.js';
import { rawRequest } from './support/wire-client.js';

/** The agents' resource monitor (`/monitor/statistics`) and what decides a task runs in its image. */

let mesos: FakeMesos | undefined;
afterEach(async () => {
  await mesos?.stop();
  mesos = undefined;
});

interface StatisticsEntry {
  executor_id: string;
  executor_name: string;
  framework_id: string;
  source: string;
  statistics: Record<string, number>;
}

describe('fake master: the agent resource monitor', () => {
  it("serves /monitor/statistics of a running command task from its processes: rss, CPU seconds, the task's limits", async () => {
    mesos = await startFakeMesos({ execution: 'processes', allocationIntervalMs: 50, executorStartMs: 10 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
    const task = commandTask(offer, 'watched', 'sleep 30');
    await scheduler.call('ACCEPT', launch([offer], [task]));
    for (;;) {
      const status = await scheduler.nextUpdate('watched', undefined, 15_000);
      await scheduler.ack(status);
      if (status.state === 'TASK_RUNNING') break;
    }
    const agentUrl = mesos.agentUrl((offer.agent_id as { value: string }).value);
    const answer = await rawRequest(agentUrl, { method: 'GET', path: '/monitor/statistics' });
    expect(answer.status).toBe(200);
    const entries = JSON.parse(answer.body) as StatisticsEntry[];
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry).toMatchObject({
      executor_id: 'watched',
      framework_id: scheduler.frameworkId,
      source: 'watched',
      executor_name: "Command Executor (Task: watched) (Command: sh -c 'sleep 30')",
    });
    const stats = entry!.statistics;
    expect(stats.mem_rss_bytes).toBeGreaterThan(0);
    expect(stats.cpus_user_time_secs).toBeGreaterThanOrEqual(0);
    expect(stats.timestamp).toBeGreaterThan(Date.now() / 1000 - 60);
    const resources = task.resources as { name: string; scalar?: { value: number } }[];
    const mem = resources.find((r) => r.name === 'mem')?.scalar?.value ?? 0;
    // The task's memory and the command executor's 32 MB, as Mesos gives its container.
    expect(stats.mem_limit_bytes).toBe((mem + 32) * 1024 * 1024);
    // The agent's operator API says the same per container.
    const call = (type: string) =>
      rawRequest(agentUrl, {
        path: '/api/v1',
        headers: [['Content-Type', 'application/json']],
        body: { type },
      });
    const containers = await call('GET_CONTAINERS');
    expect(containers.status).toBe(200);
    const listed = JSON.parse(containers.body) as {
      type: string;
      get_containers: { containers: Record<string, unknown>[] };
    };
    expect(listed.type).toBe('GET_CONTAINERS');
    expect(listed.get_containers.containers).toHaveLength(1);
    expect(listed.get_containers.containers[0]).toMatchObject({
      executor_id: { value: 'watched' },
      framework_id: { value: scheduler.frameworkId },
      container_id: { value: expect.any(String) },
      resource_statistics: { mem_limit_bytes: (mem + 32) * 1024 * 1024 },
    });
    expect((await call('GET_HEALTH')).status).toBe(501);
  });
});

describe('fake agents and images (units)', () => {
  it('runs a Docker image only where the agent may run it and a runtime is configured', () => {
    const runtime = { command: '/usr/bin/podman' };
    const mesosImage = { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'busy:1' } } } };
    const dockerImage = { type: 'DOCKER', docker: { image: 'busy:1' } };
    const withProvider = resolveContainerizer({ imageProviders: 'docker' });
    const stock = resolveContainerizer({});
    const docker = resolveContainerizer({ containerizers: 'mesos,docker' });
    expect(imageToRun(withProvider, runtime, mesosImage)).toEqual({ containerizer: 'mesos', name: 'busy:1' });
    expect(imageToRun(withProvider, undefined, mesosImage)).toBeUndefined();
    expect(imageToRun(stock, runtime, mesosImage)).toBeUndefined();
    expect(imageToRun(docker, runtime, dockerImage)).toEqual({ containerizer: 'docker', name: 'busy:1' });
    expect(imageToRun(withProvider, runtime, { type: 'MESOS' })).toBeUndefined();
  });

  it('creates the container with the limits, the sandbox, the variables by name and the shell command', () => {
    const args = createArgs(
      {
        name: 'mesos-c1',
        image: { containerizer: 'mesos', name: 'busy:1' },
        command: { value: 'echo "$X"' },
        directory: '/sandbox',
        env: { X: 'secret value', PATH: '/bin' },
        memMb: 96,
        cpus: 0.35,
      },
      '/fake/mesos-c1',
    );
    expect(args).toEqual([
      'create',
      '--name',
      'mesos-c1',
      '--pull',
      'never',
      '--init',
      '--log-driver',
      'passthrough',
      '--cgroup-parent',
      '/fake/mesos-c1',
      '--memory',
      '96m',
      '--memory-swap',
      '96m',
      '--cpus',
      '0.35',
      '--volume',
      '/sandbox:/mnt/mesos/sandbox',
      '--workdir',
      '/mnt/mesos/sandbox',
      '--env',
      'X',
      '--env',
      'PATH=/bin',
      '--entrypoint',
      '/bin/sh',
      'busy:1',
      '-c',
      'echo "$X"',
    ]);
  });

  it('words an OOM kill as the cgroups/mem isolator does, sizes as stout prints them', () => {
    expect(stoutBytes(96 * 1024 * 1024)).toBe('96MB');
    expect(stoutBytes(99104 * 1024)).toBe('99104KB');
    expect(stoutBytes(1000)).toBe('1000B');
    expect(stoutBytes(2 * 1024 ** 3)).toBe('2GB');
    const limitation = memoryLimitation(96 * 1024 * 1024, 99104 * 1024, 'total_rss 1\n');
    expect(limitation.message).toBe(
      'Memory limit exceeded: Requested: 96MB Maximum Used: 99104KB\n\nMEMORY STATISTICS: \ntotal_rss 1\n\n',
    );
    expect(limitation.reason).toBe('REASON_CONTAINER_LIMITATION_MEMORY');
    expect(limitation.resources).toEqual([{ name: 'mem', type: 'SCALAR', scalar: { value: 96 } }]);
  });

  it("reads a process's group, CPU ticks and rss from /proc/<pid>/stat, a name with spaces and parentheses included", () => {
    const line =
      '4242 (a (b) c) S 1 4240 4240 0 -1 4194304 100 0 0 0 7 3 0 0 20 0 1 0 100 1000 256 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ pgrp: 4240, utime: 7, stime: 3, rssPages: 256 });
    const own = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(own?.rssPages).toBeGreaterThan(0);
  });
});
