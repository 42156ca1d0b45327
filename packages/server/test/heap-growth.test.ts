import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeSetsHeapGrowth } from '../src/heap-growth.js';

// The server's heap growing factor (--heap-growing-percent, default 50): set for the process at
// `serve`, unless node was given its own.

const HEAP_GROWTH = fileURLToPath(new URL('../src/heap-growth.ts', import.meta.url));

/**
 * The largest V8 heap a real node process reached while it kept ~60 MB live and allocated ~1.5 GB
 * of short-lived objects, after `applyHeapGrowth(percent)`.
 */
function peakHeapMb(percent: number): Promise<number> {
  const program = `
    const { applyHeapGrowth } = await import(${JSON.stringify(HEAP_GROWTH)});
    applyHeapGrowth(${percent});
    const live = [];
    for (let i = 0; i < 400_000; i++) live.push({ id: 'run-' + i, cpus: i * 0.1, tags: [i] });
    let peak = 0;
    for (let round = 0; round < 150; round++) {
      const garbage = [];
      for (let i = 0; i < 100_000; i++) garbage.push({ id: 'status-' + i, at: [i, i] });
      if (round % 10 === 0) live.splice(0, 1_000, ...garbage.slice(0, 1_000));
      peak = Math.max(peak, process.memoryUsage().heapTotal);
    }
    console.log(Math.round(peak / 2 ** 20));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(Number(out.trim())) : reject(new Error(`exited ${code}: ${out}`)),
    );
  });
}

describe('the heap growing factor', () => {
  it('keeps a busy heap near its live data: a real node process peaks far lower with 50 % than with V8’s own policy', async () => {
    const [own, fifty] = await Promise.all([peakHeapMb(0), peakHeapMb(50)]);
    expect(fifty).toBeLessThan(own * 0.75);
  }, 120_000);

  it('leaves a flag given to node itself (command line or NODE_OPTIONS) in charge', () => {
    expect(nodeSetsHeapGrowth([], '')).toBe(false);
    expect(nodeSetsHeapGrowth(['--heap-growing-percent=20'], '')).toBe(true);
    expect(nodeSetsHeapGrowth([], '--max-old-space-size=512 --heap_growing_percent=10')).toBe(true);
    expect(nodeSetsHeapGrowth(['--heap-growing-percentage=1'], '--inspect')).toBe(false);
  });
});
