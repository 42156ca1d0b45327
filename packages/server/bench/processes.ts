// Child processes of the benchmarks: starting a server and waiting for its address, stopping it,
// and reading how much CPU a process (and the machine) used, which stays meaningful on a
// machine shared with other work where wall-clock rates swing with the load.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A started server: its URL (from the line matching `ready`) and its process. */
export interface Started {
  url: string;
  proc: ChildProcess;
}

/** Starts `cmd args` and resolves when its output matches `ready` (group 1 = the URL). */
export function startProcess(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<Started> {
  const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve({ url: m[1]!, proc });
      // Keep draining (a full pipe would block the server) but stop growing the buffer.
      if (m || out.length > 1_000_000) out = out.slice(-10_000);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`)));
  });
}

/**
 * Starts `galley serve` of the build `main` on `dataDir`, listening on `port`, with `args` more, and
 * resolves once GET /health answers 200: the process, and how long that took from the spawn (ms).
 */
export async function startUntilHealthy(
  main: string,
  dataDir: string,
  port: number,
  args: string[],
  timeoutMs: number,
): Promise<{ proc: ChildProcess; ms: number }> {
  const started = performance.now();
  const serve = [main, 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...args];
  const proc = spawn(process.execPath, serve, { stdio: 'ignore' });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`galley serve exited with ${proc.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return { proc, ms: Math.round(performance.now() - started) };
    if (Date.now() > deadline) throw new Error(`galley serve did not answer within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** SIGTERM, then waits for the exit. */
export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

/** Linux counts CPU time in USER_HZ ticks of 10 ms. */
const MS_PER_TICK = 10;

/**
 * CPU time (user + system, ms) `pid` has used so far; 0 when it is gone. With `reaped`, plus
 * what its children that ended (and their children, once reaped) used.
 */
export function processCpuMs(pid: number | undefined | null, reaped = false): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return (f[11]! + f[12]! + (reaped ? f[13]! + f[14]! : 0)) * MS_PER_TICK;
  } catch {
    return 0;
  }
}

/** Pids of the direct children of `pid` (all its threads'). */
export function childPids(pid: number | undefined): number[] {
  if (!pid) return [];
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return tasks.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Busy CPU time of the whole machine so far (ms, summed over CPUs), from /proc/stat. */
export function machineBusyMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + (fields[4] ?? 0);
  return (fields.reduce((a, b) => a + b, 0) - idle) * MS_PER_TICK;
}

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
