import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeTaskUsage,
  encodeTaskUsage,
  parseProcStat,
  TaskUsageSampler,
} from '../../src/executor/task-usage.js';

// galley-executor measures each task's process group itself and sends the peaks in the terminal
// update's data: under a shared executor the agent reports only the executor's container.

describe('galley-executor task usage', () => {
  it('reads /proc/<pid>/stat, a command name with spaces and parentheses included', () => {
    const own = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(own?.rssPages).toBeGreaterThan(0);
    const odd = '42 (a) b (c)) S 1 42 42 0 -1 0 0 0 0 0 7 3 2 1 20 0 1 0 100 1000 25 rest';
    expect(parseProcStat(odd)).toEqual({ pgrp: 42, cpuTicks: 13, rssPages: 25 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('round-trips the usage through TaskStatus.data and ignores data that is not its own', () => {
    const usage = { max_rss_bytes: 123_456_789, max_cpu_millicores: 250 };
    expect(decodeTaskUsage(encodeTaskUsage(usage))).toEqual(usage);
    expect(decodeTaskUsage(undefined)).toBeUndefined();
    expect(decodeTaskUsage(Buffer.from('{"other":1}').toString('base64'))).toBeUndefined();
    expect(decodeTaskUsage(Buffer.from('not json').toString('base64'))).toBeUndefined();
    expect(decodeTaskUsage(Buffer.from('{"galley_usage":{"max_rss_bytes":-1}}').toString('base64'))).toEqual({
      max_rss_bytes: null,
      max_cpu_millicores: null,
    });
  });

  it(
    "sums a task's process group: ~64 MiB held by dd in a pipe reads within 20%",
    { timeout: 30_000 },
    async () => {
      const sampler = new TaskUsageSampler(100);
      const child = spawn('/bin/sh', ['-c', 'dd if=/dev/zero bs=64M count=1 2>/dev/null | sleep 2'], {
        detached: true,
        stdio: 'ignore',
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', reject);
      });
      sampler.track(pid);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await exited;
      const used = sampler.untrack(pid);
      const mib = (used.max_rss_bytes ?? 0) / (1024 * 1024);
      expect(mib).toBeGreaterThanOrEqual(64 * 0.8);
      expect(mib).toBeLessThanOrEqual(64 * 1.2);
      expect(used.max_cpu_millicores).toEqual(expect.any(Number));
    },
  );
});
