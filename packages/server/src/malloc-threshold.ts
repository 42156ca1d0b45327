/**
 * glibc's mmap threshold for the server process (`--malloc-mmap-threshold-kb`, mallopt(3)).
 *
 * glibc serves a block of at least the threshold with a mapping of its own, unmapped when freed;
 * smaller blocks come from its arenas, which keep freed memory for reuse. The threshold starts at
 * 128 KiB but rises to the size of every mapped block freed, up to 32 MiB, and the trim threshold
 * with it (twice that). In Galley the server reads `pglite.wasm` (9 MB) whole, and V8's TurboFan
 * then compiles PGlite's three largest WebAssembly functions on worker threads in 24–37 MB of
 * zone memory each: from arenas, by then, where glibc kept 45–68 MB of it for good. A fixed
 * threshold stops the rise (mallopt turns glibc's dynamic threshold off): large blocks stay
 * mapped and are given back when freed. Measured on the idle server after a restart (PGlite,
 * `bench:footprint` beside the build before, packages/server/README.md): 220 MB instead of 246
 * five seconds after it answered, 190 instead of 219 thirty seconds after.
 *
 * glibc only: the call goes through the optional `koffi` FFI package. Where either is missing
 * (musl, another OS, koffi not installed) nothing is set and the caller is told why.
 */

/** mallopt(3)'s parameter number of M_MMAP_THRESHOLD (glibc's malloc.h). */
const M_MMAP_THRESHOLD = -3;

/** The largest threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2). */
export const MAX_MMAP_THRESHOLD_KB = 32 * 1024;

export type MallocThreshold =
  | { state: 'set'; kb: number }
  /** 0 asked: glibc's own dynamic threshold. */
  | { state: 'off' }
  /** The environment tunes malloc itself (GLIBC_TUNABLES, MALLOC_MMAP_THRESHOLD_): it wins. */
  | { state: 'env' }
  | { state: 'unavailable'; why: string };

/** True when the environment already sets glibc malloc's thresholds (read by glibc at start). */
export function environmentTunesMalloc(env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    /(^|:)glibc\.malloc\.(mmap|trim)_threshold=/.test(env['GLIBC_TUNABLES'] ?? '') ||
    env['MALLOC_MMAP_THRESHOLD_'] !== undefined ||
    env['MALLOC_TRIM_THRESHOLD_'] !== undefined
  );
}

/** Sets glibc's mmap threshold to `kb` KiB for this process (0: leave glibc's dynamic one). */
export async function applyMallocThreshold(
  kb: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MallocThreshold> {
  if (kb === 0) return { state: 'off' };
  if (environmentTunesMalloc(env)) return { state: 'env' };
  const libc = await loadLibc();
  if ('why' in libc) return { state: 'unavailable', why: libc.why };
  const mallopt = libc.func('int mallopt(int param, int value)') as (param: number, value: number) => number;
  if (mallopt(M_MMAP_THRESHOLD, kb * 1024) !== 1)
    return { state: 'unavailable', why: `mallopt refused ${kb} KiB` };
  return { state: 'set', kb };
}

/** glibc through the optional `koffi` package, or why it cannot be reached (loaded once). */
export function loadLibc(): Promise<{ func: (signature: string) => unknown } | { why: string }> {
  opened ??= openLibc();
  return opened;
}

let opened: ReturnType<typeof openLibc> | undefined;

async function openLibc(): Promise<{ func: (signature: string) => unknown } | { why: string }> {
  if (process.platform !== 'linux') return { why: `not glibc (${process.platform})` };
  try {
    const { default: koffi } = await import('koffi');
    const library = koffi.load('libc.so.6');
    return { func: (signature) => library.func(signature) as unknown };
  } catch (err) {
    return { why: (err as Error).message.split('\n')[0]! };
  }
}
