import { fileURLToPath } from 'node:url';
import { builtGalley, startGalley } from '@galley/testkit';
import { describe, expect, it, vi } from 'vitest';
import { IDLE_CPU_SHARE, IdleTrimmer } from '../src/idle-trim.js';
import { runNodeProgram } from './node-program.js';

// --malloc-trim-idle-ms (default 1000): once the server goes idle, glibc gives back the free memory
// its arenas keep (malloc_trim), such as what start-up's threads left there.

// The built modules (`npm test` builds first): tsx's loader thread would use glibc's arenas itself.
const IDLE_TRIM = fileURLToPath(new URL('../dist/idle-trim.js', import.meta.url));
const MALLOC_THRESHOLD = fileURLToPath(new URL('../dist/malloc-threshold.js', import.meta.url));

/** A trimmer over a CPU clock the test moves: `work(ms)` is CPU used in the period that ends. */
function trimmerOverFakeCpu(everyMs: number) {
  let cpu = 0;
  const trims: boolean[] = [];
  const trimmer = new IdleTrimmer({
    everyMs,
    cpuMicros: () => cpu,
    trim: () => {
      cpu += 3_000; // the trim's own CPU
      return true;
    },
    onTrim: (freed) => trims.push(freed),
  });
  const period = (workMs: number) => {
    cpu += workMs * 1000;
    trimmer.tick();
  };
  return { trimmer, trims, period };
}

describe('the idle trim', () => {
  it('trims once at the first idle period after start-up, and again only after the server was busy', () => {
    const { trims, period } = trimmerOverFakeCpu(1_000);
    const idleMs = 1_000 * IDLE_CPU_SHARE * 0.5;
    const busyMs = 1_000 * IDLE_CPU_SHARE * 10;
    period(busyMs); // still starting
    expect(trims).toHaveLength(0);
    period(idleMs);
    expect(trims).toHaveLength(1);
    // Idle on: nothing new was freed, nothing to do (its own 3 ms are not counted as work).
    period(idleMs);
    period(0);
    expect(trims).toHaveLength(1);
    // Busy for a while: never while busy, once when it is idle again.
    period(busyMs);
    period(busyMs);
    expect(trims).toHaveLength(1);
    period(idleMs);
    expect(trims).toHaveLength(2);
  });

  it('counts a period as idle under 2 % of a core, whatever its length', () => {
    const { trims, period } = trimmerOverFakeCpu(10_000);
    period(10_000 * IDLE_CPU_SHARE); // exactly 2 %: busy
    expect(trims).toHaveLength(0);
    period(10_000 * IDLE_CPU_SHARE - 1);
    expect(trims).toHaveLength(1);
  });

  it('gives back, in a real node process, the freed small blocks glibc keeps in its arena', async () => {
    // Blocks of 64 KiB, under the 128 KiB mmap threshold serve sets, come from an arena; a small
    // block kept after each stops glibc from giving back the top of the arena when they are freed.
    const program = `
      const { applyMallocThreshold } = await import(${JSON.stringify(MALLOC_THRESHOLD)});
      const { loadMallocTrim } = await import(${JSON.stringify(IDLE_TRIM)});
      const { default: koffi } = await import('koffi');
      const libc = koffi.load('libc.so.6');
      const malloc = libc.func('void *malloc(size_t size)');
      const free = libc.func('void free(void *ptr)');
      const memset = libc.func('void *memset(void *s, int c, size_t n)');
      const { state } = await applyMallocThreshold(128, {});
      const loaded = await loadMallocTrim();
      if (loaded.why) throw new Error(loaded.why);
      const rss = () => process.memoryUsage.rss() / 2 ** 20;
      const before = rss();
      const large = [], small = [];
      for (let i = 0; i < 2000; i++) {
        const block = malloc(64 * 1024);
        memset(block, 1, 64 * 1024);
        large.push(block);
        small.push(malloc(64));
      }
      const grownMb = rss() - before;
      for (const block of large) free(block);
      const keptMb = rss() - before;
      const freed = loaded.trim();
      console.log(JSON.stringify({ state, grownMb, keptMb, freed, afterTrimMb: rss() - before, small: small.length }));`;
    const result = await runNodeProgram<{
      state: string;
      grownMb: number;
      keptMb: number;
      freed: boolean;
      afterTrimMb: number;
    }>(program);
    expect(result.state).toBe('set');
    // 2,000 blocks of 64 KiB: 125 MB, held after they were freed, until the trim.
    expect(result.grownMb).toBeGreaterThan(100);
    expect(result.keptMb).toBeGreaterThan(100);
    expect(result.freed).toBe(true);
    expect(result.afterTrimMb).toBeLessThan(25);
  }, 60_000);

  it.runIf(builtGalley('the idle trim in galley serve').available)(
    'runs in `galley serve` once its start-up is over',
    async () => {
      const galley = await startGalley({
        args: ['--malloc-trim-idle-ms', '200'],
        env: { GALLEY_LOG_LEVEL: 'debug' },
      });
      try {
        const trimmed = () =>
          /"freed":(true|false),"cpu_us":\d+,"msg":"idle: free memory given back/.exec(galley.output());
        await vi.waitFor(() => expect(trimmed()).not.toBeNull(), { timeout: 60_000, interval: 100 });
        expect((await fetch(`${galley.url}/health`)).status).toBe(200);
      } finally {
        await galley.stop();
      }
    },
    90_000,
  );
});
