import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyMallocThreshold, environmentTunesMalloc } from '../src/malloc-threshold.js';
import { runNodeProgram } from './node-program.js';

// glibc's mmap threshold (--malloc-mmap-threshold-kb, default 128): fixed at `serve`, so the
// memory of large blocks freed after PGlite's WebAssembly was read goes back to the system.

// The built module (`npm test` builds first): tsx's loader thread would move glibc's threshold itself.
const MALLOC_THRESHOLD = fileURLToPath(new URL('../dist/malloc-threshold.js', import.meta.url));

interface Freed {
  state: string;
  /** MB the process grew by while it held 200 blocks of 1 MB. */
  grownMb: number;
  /** MB it still held once they were freed. */
  keptMb: number;
}

/**
 * A real node process after `applyMallocThreshold(kb)`: it frees a 9 MB block (as the server frees
 * its read of pglite.wasm), then allocates 200 blocks of 1 MB, each followed by a small block it
 * keeps, and frees the large ones. That they were freed is read from glibc (`mallinfo2`: the bytes
 * in use fell), then what the process still holds.
 */
function freeLargeBlocks(kb: number): Promise<Freed> {
  const program = `
    const { applyMallocThreshold } = await import(${JSON.stringify(MALLOC_THRESHOLD)});
    const { default: koffi } = await import('koffi');
    const { state } = await applyMallocThreshold(${kb}, {});
    const fields = ['arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost'];
    const info = koffi.struct('mallinfo2', Object.fromEntries(fields.map((f) => [f, 'size_t'])));
    const mallinfo2 = koffi.load('libc.so.6').func('mallinfo2', info, []);
    const inUse = () => { const m = mallinfo2(); return Number(m.uordblks + m.hblkhd) / 2 ** 20; };
    const rss = () => process.memoryUsage.rss() / 2 ** 20;
    // Array buffers' memory is freed after a collection, once the event loop turns.
    const collectUntil = async (freed) => {
      for (let i = 0; i < 200 && !freed(); i++) { gc(); await new Promise((r) => setTimeout(r, 5)); }
      if (!freed()) throw new Error('not freed after 200 collections');
    };
    let wasm = Buffer.allocUnsafeSlow(9 << 20).fill(1);
    const read = inUse();
    wasm = null;
    await collectUntil(() => inUse() < read - 8);
    const before = rss();
    let large = [];
    const small = [];
    for (let i = 0; i < 200; i++) {
      large.push(Buffer.allocUnsafeSlow(1 << 20).fill(1));
      small.push(Buffer.allocUnsafeSlow(4096).fill(1));
    }
    const grownMb = rss() - before;
    const held = inUse();
    large = null;
    await collectUntil(() => inUse() < held - 190);
    console.log(JSON.stringify({ state, grownMb, keptMb: rss() - before, small: small.length }));`;
  return runNodeProgram<Freed>(program, ['--expose-gc']);
}

describe('the malloc mmap threshold', () => {
  it('gives freed large blocks back to the system in a real node process, which glibc’s own threshold keeps', async () => {
    const [fixed, dynamic] = await Promise.all([freeLargeBlocks(128), freeLargeBlocks(0)]);
    expect(fixed.state).toBe('set');
    expect(dynamic.state).toBe('off');
    // Both held the 200 MB; only the fixed threshold gave it back.
    expect(fixed.grownMb).toBeGreaterThan(150);
    expect(dynamic.grownMb).toBeGreaterThan(150);
    expect(fixed.keptMb).toBeLessThan(30);
    expect(dynamic.keptMb).toBeGreaterThan(150);
  }, 60_000);

  it('leaves malloc to the environment when it sets a threshold itself', async () => {
    expect(environmentTunesMalloc({})).toBe(false);
    expect(environmentTunesMalloc({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' })).toBe(true);
    expect(
      environmentTunesMalloc({ GLIBC_TUNABLES: 'glibc.pthread.x=1:glibc.malloc.trim_threshold=1' }),
    ).toBe(true);
    expect(environmentTunesMalloc({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toBe(false);
    expect(environmentTunesMalloc({ MALLOC_MMAP_THRESHOLD_: '131072' })).toBe(true);
    expect(await applyMallocThreshold(128, { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' })).toEqual({
      state: 'env',
    });
  });
});
