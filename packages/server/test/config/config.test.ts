import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, redactConfig, resolveConfig } from '../../src/config/config.js';

describe('config', () => {
  it("defaults to 127.0.0.1:1424, the local backend, PGlite in ./.galley and this machine's capacity", () => {
    const c = resolveConfig({ env: {}, cwd: '/srv' });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 1424 });
    expect(c.dataDir).toBe('/srv/.galley');
    expect(c.databaseUrl).toBeNull();
    expect(c.backend).toBe('local');
    expect(c.local.cpus).toBeGreaterThan(0);
    expect(c.local.memoryMb).toBeGreaterThan(0);
  });

  it('takes flags over env vars over the config file over defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'galley-config-'));
    const file = join(dir, 'galley.json');
    await writeFile(
      file,
      JSON.stringify({ listen: '0.0.0.0:1', localCpus: 3, logLevel: 'debug', stopGraceMs: 5 }),
    );
    const c = resolveConfig({
      configFile: file,
      env: { GALLEY_LISTEN: '127.0.0.1:2', GALLEY_LOCAL_CPUS: '4', DATABASE_URL: 'postgres://u:secret@db/x' },
      flags: { listen: '127.0.0.1:3' },
    });
    expect(c.listen.port).toBe(3);
    expect(c.local.cpus).toBe(4);
    expect(c.logLevel).toBe('debug');
    expect(c.local.stopGraceMs).toBe(5);
    expect(c.databaseUrl).toBe('postgres://u:secret@db/x');
    expect(redactConfig(c).databaseUrl).not.toContain('secret');
  });

  it('names every bad setting and where it came from', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'galley-config-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ nonsense: 1 }));
    let error: unknown;
    try {
      resolveConfig({
        configFile: file,
        env: { GALLEY_LOCAL_CPUS: 'lots', GALLEY_LOG_LEVEL: 'loud' },
        flags: { listen: 'nowhere', backend: 'k8s' },
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('localCpus (GALLEY_LOCAL_CPUS)');
    expect(problems).toContain('logLevel (GALLEY_LOG_LEVEL)');
    expect(problems).toContain('listen (--listen)');
    expect(problems).toContain('unknown setting "nonsense"');
    expect(problems).toContain('backend');
  });
});
