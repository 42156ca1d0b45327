import { loadLibc } from './malloc-threshold.js';

/**
 * Gives the memory glibc keeps back to the system once the server goes idle
 * (`--malloc-trim-idle-ms`, malloc_trim(3)).
 *
 * Blocks under the mmap threshold (see malloc-threshold.ts) come from glibc's arenas, and a freed
 * one stays there for reuse: an arena gives back only the free memory at its top. The threads that
 * start a server (V8 compiling PGlite's WebAssembly and the app's code, libuv reading its files)
 * leave 40 MB or more free in the middle of two arenas, resident for good: the idle server after a
 * restart measured 185 MB, and 145 MB once `malloc_trim(0)` (which also gives back free pages in
 * the middle of an arena) had run in it. A busy server would only map it again, so the trim waits
 * for the server to go idle: the first period of `everyMs` in which the process used under 2 % of
 * a core, after a period in which it used more.
 */

/** The share of a core under which a period counts as idle. */
export const IDLE_CPU_SHARE = 0.02;

export interface IdleTrimOptions {
  /** The period CPU use is looked at over. */
  everyMs: number;
  /** Gives free memory back; answers whether any was (malloc_trim's result). */
  trim: () => boolean;
  /** The process's CPU time so far, in microseconds (user + system). */
  cpuMicros?: () => number;
  /** Told of each trim: whether memory was given back, and the trim's own CPU time in µs. */
  onTrim?: (freed: boolean, cpuMicros: number) => void;
}

export class IdleTrimmer {
  private readonly cpuMicros: () => number;
  private lastCpu: number;
  /** Whether the process was busy since the last trim (start-up counts as busy). */
  private busySinceTrim = true;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: IdleTrimOptions) {
    this.cpuMicros =
      opts.cpuMicros ??
      (() => {
        const { user, system } = process.cpuUsage();
        return user + system;
      });
    this.lastCpu = this.cpuMicros();
  }

  /** Looks every `everyMs`; the timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    this.lastCpu = this.cpuMicros();
    this.timer = setInterval(() => this.tick(), this.opts.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One period ended: trims when it was idle and the process was busy since the last trim. */
  tick(): void {
    const now = this.cpuMicros();
    const used = now - this.lastCpu;
    this.lastCpu = now;
    if (used >= this.opts.everyMs * 1000 * IDLE_CPU_SHARE) {
      this.busySinceTrim = true;
      return;
    }
    if (!this.busySinceTrim) return;
    this.busySinceTrim = false;
    const freed = this.opts.trim();
    const after = this.cpuMicros();
    // The trim's own CPU is not the next period's work.
    this.lastCpu = after;
    this.opts.onTrim?.(freed, after - now);
  }
}

/** malloc_trim(0) of glibc, or why it cannot be called. */
export async function loadMallocTrim(): Promise<{ trim: () => boolean } | { why: string }> {
  const libc = await loadLibc();
  if ('why' in libc) return libc;
  const mallocTrim = libc.func('int malloc_trim(size_t pad)') as (pad: number) => number;
  return { trim: () => mallocTrim(0) === 1 };
}
