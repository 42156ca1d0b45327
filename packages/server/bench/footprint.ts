// `npm run bench:footprint`: what a user meets first. The built server (`galley serve`, embedded
// PGlite store, local backend, no container runtime so the probe does not count) is started on a new
// data directory, then stopped and started again on it: each time, the time from spawn to the
// first 200 of GET /health, and the resident memory (VmRSS) once idle (BENCH_SETTLE_MS after it
// answered, default 5000). Then the CLI: the median wall time of `galley --help` over 5 runs, beside
// `node -e ''` (the floor any Node CLI pays). Prints the figures beside the aims of issue 17, as one
// JSON object on its last line.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GALLEY_MAIN } from '@galley/testkit';
import { percentile } from './load.js';

const SETTLE_MS = Number(process.env['BENCH_SETTLE_MS'] ?? 5_000);
const AIMS = { first_start_ms: 3_000, restart_ms: 1_000, idle_rss_mb: 150, cli_help_ms: 200 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident memory of a live process, in MB (Linux). */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

/** Starts the built server on `dataDir`; answers when GET /health is 200, with the time it took. */
async function start(dataDir: string): Promise<{ child: ChildProcess; ms: number; rss: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      GALLEY_MAIN,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--data-dir',
      dataDir,
      '--container-runtime',
      'none',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`galley serve exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) })
      .then((res) => res.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('galley serve did not answer within 120 s');
    await sleep(10);
  }
  const ms = Math.round(performance.now() - started);
  await sleep(SETTLE_MS);
  return { child, ms, rss: rssMb(child.pid!) };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Median wall time, in ms, of running `args` with node, over `runs` runs. */
function medianMs(args: string[], runs = 5): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const res = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (res.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${res.status}`);
    times.push(performance.now() - started);
  }
  return Math.round(percentile(times, 50));
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'galley-footprint-'));
  try {
    const first = await start(dataDir);
    await stop(first.child);
    const again = await start(dataDir);
    await stop(again.child);
    const help = medianMs([GALLEY_MAIN, '--help']);
    const bare = medianMs(['-e', '']);
    console.log(
      JSON.stringify({
        first_start_ms: first.ms,
        restart_ms: again.ms,
        idle_rss_mb_first_start: first.rss,
        idle_rss_mb_restart: again.rss,
        cli_help_ms: help,
        node_bare_ms: bare,
        aims: AIMS,
      }),
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
