import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BackendEvent } from '../../src/backends/backend.js';
import { attemptDir, readLogChunk } from '../../src/backends/local/attempt-files.js';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { systemClock } from '../../src/clock.js';
import { resolveRunAs } from '../../src/secrets/run-as.js';
import { localRunAs, protectDataDir } from '../../src/secrets/setup.js';

// A local host-mode job and the server it runs under: the job's environment is an allow-list plus
// its own, never the server's secrets; run as another user (the default when the server is root),
// it cannot read the server's /proc/<pid>/environ nor its data directory, yet writes its own
// directory and its log.

const isRoot = process.getuid?.() === 0;
const CANARIES = {
  DATABASE_URL: 'postgres://galley:canary-db-password@db.example/galley',
  VAULT_TOKEN: 'hvs.canary-vault-token',
  GALLEY_CANARY: 'canary-galley-setting',
};

describe('local jobs cannot reach the server', () => {
  let dataDir: string;
  let backend: LocalBackend;
  let output: string;
  const events: BackendEvent[] = [];
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const [k, v] of Object.entries(CANARIES)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    dataDir = await mkdtemp(join(tmpdir(), 'galley-isolation-'));
    await protectDataDir(dataDir);
    backend = new LocalBackend({
      cluster: 'local',
      dataDir,
      cpus: 1,
      memoryMb: 256,
      adoptCheckMs: 20,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      ...localRunAs(resolveRunAs(null)),
    });
    backend.onEvents((batch) => void events.push(...batch));
    await backend.start();
    const command = [
      'echo "uid=$(id -u)"',
      'echo "leaked=$(env | grep -cE "^(DATABASE_URL|VAULT_|GALLEY_CANARY)")"',
      `cat /proc/${process.pid}/environ >/dev/null 2>&1 && echo environ=readable || echo environ=denied`,
      `ls "${dataDir}" >/dev/null 2>&1 && echo datadir=readable || echo datadir=denied`,
      'echo mine > ./own-file && echo cwd=writable',
    ].join('; ');
    await backend.launch({
      runs: [
        {
          attemptId: 'iso-run.1',
          runId: 'iso-run',
          seq: 1,
          nodeId: 'local',
          image: '',
          command,
          env: [{ name: 'OWN', value: 'its own' }],
          cpus: 0.1,
          memMb: 64,
          gpus: 0,
        },
      ],
      groups: [],
    });
    await vi.waitFor(
      () => {
        if (!events.some((e) => e.type === 'ended')) throw new Error('the job has not ended');
      },
      { timeout: 60_000, interval: 20 },
    );
    output = (
      await readLogChunk(join(attemptDir(dataDir, 'iso-run', 1), 'stdout'), 0, 10_000)
    ).data.toString();
  });
  afterAll(async () => {
    await backend?.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it("gets none of the server's secrets in its environment (DATABASE_URL, VAULT_*, GALLEY_*), and writes its own directory", () => {
    expect(events.find((e) => e.type === 'ended')).toMatchObject({
      outcome: { kind: 'exited', exitCode: 0 },
    });
    expect(output).toContain('leaked=0\n');
    expect(output).toContain('cwd=writable\n');
    for (const value of Object.values(CANARIES)) expect(output).not.toContain(value);
  });

  it.skipIf(!isRoot)(
    'run as nobody (the server is root): cannot read /proc/<server pid>/environ nor the data directory (CI runs as root; skipped when not root: a non-root server cannot switch users)',
    () => {
      expect(output).toMatch(/^uid=(\d+)$/m);
      expect(Number(/^uid=(\d+)$/m.exec(output)?.[1])).not.toBe(0);
      expect(output).toContain('environ=denied\n');
      expect(output).toContain('datadir=denied\n');
    },
  );
});
