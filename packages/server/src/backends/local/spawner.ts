import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SUPERVISOR, SUPERVISOR_NAME } from './attempt-files.js';

/**
 * Why a spawner exists: fork() of the server (whose memory holds the embedded database) costs
 * ~15 ms and blocks its event loop, for every launch. A small helper process with a tiny heap
 * forks in ~1 ms, off the server's loop. The helper is plain JavaScript run with `node -e`, so it
 * works from the TypeScript sources (tests) and from dist alike.
 *
 * Protocol, one JSON object per line. In: `{id, dir, command, env, files?, user?}` (`files`: name →
 * text, written in `dir` with mode 0600 before the start; `user`: `{uid, gid}` the command runs
 * as — `dir` is then theirs, its output files stay the server's (0600) and are written through the
 * descriptors the helper opens; `cgroup`: the `cgroup.procs` files the process is written to before
 * it runs anything — it waits on a pipe until the helper has placed it, so nothing it forks is
 * left outside). Out:
 * `{ev:'spawned', id, pid, startTime}`, `{ev:'exit', id, code, signal, sizes}` (`sizes`: of stdout and
 * stderr then, null where unknown — the server caps a log only when one is past the cap, with no
 * look of its own at each end), `{ev:'error', id, message}`,
 * `{ev:'cgroup-failed', id, message}` (it runs, outside its cgroup).
 * When its stdin closes (the server died) it exits; the attempts keep running under their
 * supervisors, which record their exit status for the next server to read.
 */
const SOURCE = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const [supervisor, name] = process.argv.slice(1);
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const wait = 'read -r galley_go <&3; exec 3<&-\\n';
const startTime = (pid) => {
  try { const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[19] || null; }
  catch { return null; }
};
const size = (path) => { try { return fs.statSync(path).size; } catch { return null; } };
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  let m;
  try { m = JSON.parse(line); } catch { return; }
  try {
    fs.mkdirSync(m.dir, { recursive: true });
    if (m.user) fs.chownSync(m.dir, m.user.uid, m.user.gid);
    for (const [name, text] of Object.entries(m.files || {})) fs.writeFileSync(m.dir + '/' + name, text, { mode: 0o600 });
    const out = fs.openSync(m.dir + '/stdout', 'a', 0o600);
    const err = fs.openSync(m.dir + '/stderr', 'a', 0o600);
    let child;
    const cg = m.cgroup || null;
    try {
      child = spawn('/bin/sh', ['-c', (cg ? wait : '') + supervisor, name, m.dir, m.command],
        { detached: true, stdio: ['ignore', out, err, ...(cg ? ['pipe'] : [])], env: m.env, cwd: m.dir,
          ...(m.user ? { uid: m.user.uid, gid: m.user.gid } : {}) });
    } finally { fs.closeSync(out); fs.closeSync(err); }
    if (cg && child.pid) {
      let failed = null;
      for (const f of cg) { try { fs.writeFileSync(f, String(child.pid)); } catch (e) { failed = e.message; } }
      if (failed) send({ ev: 'cgroup-failed', id: m.id, message: failed });
      child.stdio[3].on('error', () => {});
      child.stdio[3].end('go\\n');
    }
    const started = child.pid ? startTime(child.pid) : null;
    child.once('spawn', () => send({ ev: 'spawned', id: m.id, pid: child.pid, startTime: started }));
    child.once('error', (e) => { if (!child.pid) send({ ev: 'error', id: m.id, message: e.message }); });
    child.once('exit', (code, signal) => send({ ev: 'exit', id: m.id, code, signal, sizes: [size(m.dir + '/stdout'), size(m.dir + '/stderr')] }));
  } catch (e) { send({ ev: 'error', id: m.id, message: e.message }); }
});
process.stdin.on('end', () => process.exit(0));
`;

/** What the spawner reports. */
export type SpawnerEvent =
  | { ev: 'spawned'; id: string; pid: number; startTime: string | null }
  | {
      ev: 'exit';
      id: string;
      code: number | null;
      signal: string | null;
      /** Sizes of stdout and stderr at the exit (null: unknown); absent from an older spawner. */
      sizes?: [number | null, number | null];
    }
  | { ev: 'error'; id: string; message: string }
  | { ev: 'cgroup-failed'; id: string; message: string };

/** A request to start one attempt under its supervisor. */
export interface SpawnRequest {
  id: string;
  dir: string;
  command: string;
  env: Record<string, string>;
  /** Files to write in `dir` (mode 0600) before the start: name → text. */
  files?: Record<string, string>;
  /** The user the command runs as (the helper runs as root then); undefined = the server's. */
  user?: { uid: number; gid: number };
  /** The `cgroup.procs` files the process is placed in before it runs its command. */
  cgroup?: string[];
}

/**
 * The server's side of the spawner. Started on first use; if it dies, `onLost` is called (the
 * attempts it started keep running; their ends must then be watched another way) and the next
 * spawn starts a new one.
 */
export class Spawner {
  private proc: ChildProcess | null = null;

  constructor(
    private readonly onEvent: (e: SpawnerEvent) => void,
    private readonly onLost: (reason: string) => void,
  ) {}

  /** The helper's pid; null when it is not running. */
  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  spawn(request: SpawnRequest): void {
    this.ensure().stdin!.write(`${JSON.stringify(request)}\n`);
  }

  /** Stops the helper (attempts keep running). */
  close(): void {
    const proc = this.proc;
    this.proc = null;
    proc?.removeAllListeners('exit');
    proc?.stdin?.end();
  }

  private ensure(): ChildProcess {
    if (this.proc) return this.proc;
    const proc = spawn(process.execPath, ['-e', SOURCE, SUPERVISOR, SUPERVISOR_NAME], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {},
    });
    this.proc = proc;
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        this.onEvent(JSON.parse(line) as SpawnerEvent);
      } catch {
        // Not a protocol line: ignore it.
      }
    });
    proc.stdin!.on('error', () => undefined);
    proc.once('exit', (code, signal) => {
      if (this.proc === proc) this.proc = null;
      this.onLost(`spawner exited (${signal ?? code})`);
    });
    return proc;
  }
}
