import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '@galley/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type StoreLocation } from '../../src/store/open.js';
import { LookupBatcher } from '../../src/store/lookup-batcher.js';
import { newRun } from './fixtures.js';

// Reads are batched: the keys asked for in one turn of the event loop share one query. A key the
// database cannot take (a NUL byte: "invalid byte sequence for encoding UTF8") must fail only its
// own reader, never the valid reads that happened to share its batch.

const pgGate = await startPostgres();
const tempDirs: string[] = [];

afterAll(async () => {
  if (pgGate.available) await pgGate.service.stop();
  for (const d of tempDirs) await rm(d, { recursive: true, force: true });
});

const stores: { name: string; available: boolean; location: () => Promise<StoreLocation> }[] = [
  {
    name: 'PGlite',
    available: true,
    location: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'galley-poison-'));
      tempDirs.push(dir);
      return { dataDir: dir };
    },
  },
  {
    name: 'PostgreSQL',
    available: pgGate.available,
    location: async () => {
      if (!pgGate.available) throw new Error(pgGate.reason);
      return { databaseUrl: await pgGate.service.createDatabase() };
    },
  },
];

describe('LookupBatcher', () => {
  it('reads a failed batch again key by key, so only the bad key fails', async () => {
    const loads: string[][] = [];
    const batcher = new LookupBatcher<string>(async (keys) => {
      loads.push(keys);
      if (keys.includes('bad')) throw new Error('cannot read "bad"');
      return new Map(keys.map((k) => [k, k.toUpperCase()]));
    });
    const answers = await Promise.allSettled(['a', 'bad', 'b', 'a'].map((k) => batcher.get(k)));
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : 'rejected'))).toEqual([
      'A',
      'rejected',
      'B',
      'A',
    ]);
    expect(loads[0]).toEqual(['a', 'bad', 'b']);
    expect(loads.slice(1).sort()).toEqual([['a'], ['b'], ['bad']]);
  });
});

describe.each(stores)('batched reads with a poisoned key ($name)', ({ name, available, location }) => {
  it.runIf(available || process.env['GALLEY_REQUIRE_SERVICES'] === '1')(
    `answers every valid concurrent read while one read of a NUL id fails (${name})`,
    async () => {
      const store = await openStore(await location());
      try {
        const ids = Array.from({ length: 20 }, (_, i) => `run-${i}`);
        for (const id of ids) await store.insertRun(newRun(id, {}, 1_000));
        const reads = [...ids, 'bad\u0000id', ...ids].map((id) => store.getRun(id));
        const answers = await Promise.allSettled(reads);
        const failed = answers.filter((a) => a.status === 'rejected');
        expect(failed).toHaveLength(1);
        const found = answers.flatMap((a) => (a.status === 'fulfilled' && a.value ? [a.value.runId] : []));
        expect(found).toEqual([...ids, ...ids]);
      } finally {
        await store.close();
      }
    },
  );
});
