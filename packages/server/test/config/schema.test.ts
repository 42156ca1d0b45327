import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { OPTIONS } from '../../src/config/options.js';
import { configFileSchema, optionSchema } from '../../src/config/schema.js';

// The config file's shape and each setting's value are TypeBox schemas built from the OPTIONS
// table, checked with TypeBox's Value; problems name the key and where the value came from.

async function configFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'galley-config-schema-'));
  const file = join(dir, 'galley.json');
  await writeFile(file, JSON.stringify(content));
  return file;
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('the config schema', () => {
  it('has every setting as an optional key of the file, and no other', () => {
    const schema = configFileSchema();
    expect(Object.keys(schema.properties).sort()).toEqual(OPTIONS.map((o) => o.key).sort());
    expect(schema.required ?? []).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
    expect(optionSchema(OPTIONS.find((o) => o.key === 'localMemoryMb')!)).toMatchObject({
      type: 'integer',
      minimum: 1,
    });
  });

  it('names each bad key of the file with what it expected and what it got', async () => {
    const file = await configFile({
      localCpus: 'lots',
      localMemoryMb: null,
      stopGraceMs: 1.5,
      logLevel: 'loud',
      backend: 'k8s',
      listen: 5,
      colour: 'red',
    });
    const problems = problemsOf(() => resolveConfig({ configFile: file, env: {} }));
    expect(problems).toEqual(
      expect.arrayContaining([
        'localCpus (config file): expected a number ≥ 0.001, got "lots"',
        'localMemoryMb (config file): expected an integer ≥ 1, got null',
        'stopGraceMs (config file): expected an integer ≥ 0, got 1.5',
        'logLevel (config file): expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
        'backend (config file): expected one of local, mesos, got "k8s"',
        'listen (config file): expected host:port, got 5',
        `config file ${file}: unknown setting "colour"`,
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('takes numbers written as text and null for a setting unset by default, as before', async () => {
    const file = await configFile({
      localCpus: '3',
      stopGraceMs: ' 25 ',
      databaseUrl: null,
      mesosMaster: null,
    });
    const c = resolveConfig({ configFile: file, env: {} });
    expect(c.local.cpus).toBe(3);
    expect(c.local.stopGraceMs).toBe(25);
    expect(c.databaseUrl).toBeNull();
  });

  it('checks flags and env vars with the same schemas', () => {
    const problems = problemsOf(() =>
      resolveConfig({
        env: { GALLEY_RETRY_MAX_ATTEMPTS: '0', GALLEY_LOG_FOLLOW_MS: '', GALLEY_HEAP_GROWING_PERCENT: '401' },
        flags: { stopGraceMs: '1.5', localCpus: 'Infinity', backend: 'k8s', serverMode: '' },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'retryMaxAttempts (GALLEY_RETRY_MAX_ATTEMPTS): expected an integer ≥ 1, got "0"',
        'stopGraceMs (--stop-grace-ms): expected an integer ≥ 0, got "1.5"',
        'localCpus (--local-cpus): expected a number ≥ 0.001, got "Infinity"',
        'backend (--backend): expected one of local, mesos, got "k8s"',
        'serverMode (--server-mode): expected a non-empty string, got ""',
        'heapGrowingPercent (GALLEY_HEAP_GROWING_PERCENT): expected an integer from 0 to 400, got "401"',
      ]),
    );
    // An empty env var is not set (the default applies), as before.
    expect(problems.some((p) => p.startsWith('logFollowMs'))).toBe(false);
  });

  it('reports a bad file value even where a flag overrides it (the file is wrong either way)', async () => {
    const file = await configFile({ localCpus: 'lots' });
    const problems = problemsOf(() =>
      resolveConfig({ configFile: file, env: {}, flags: { localCpus: '2' } }),
    );
    expect(problems).toEqual(['localCpus (config file): expected a number ≥ 0.001, got "lots"']);
  });
});
