import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, galleyCli, galleyRequest, type GalleyProcess, startGalley } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeVault, startFakeVault } from './fake-vault.js';

// Secrets into jobs, end to end: the BUILT server (a real process, its stdout and stderr kept)
// resolves a Vault reference (through a fake Vault speaking KV v2, AppRole login and renew-self)
// and a Galley-stored secret into a local job's environment. The job proves it got them by
// printing their SHA-256, never the values; the values must appear in no API answer, no log, no
// event of the stream and nowhere in the server's output.

const built = builtGalley('secrets e2e').available;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const VAULT_VALUE = `vault-value-${process.pid}-Zq8`;
const GALLEY_VALUE = `galley-value-${process.pid}-Kx3`;
const ROLE_ID = `role-${process.pid}`;
const SECRET_ID = `secret-id-${process.pid}-Wm5`;
const PATIENCE = { timeout: 60_000, interval: 50 };

interface RunJson {
  run_id: string;
  status: string;
  exit_code: number | null;
  exit_reason: string | null;
  attempt_count: number;
  env: { name: string; value: string }[];
}

describe.runIf(built)('secrets into jobs with a fake Vault and the built server', () => {
  let vault: FakeVault;
  let dir: string;
  let galley: GalleyProcess;
  /** Every API answer read, and the event stream, as text. */
  let seen = '';
  let stream: AbortController;
  const api = async <T = unknown>(method: string, path: string, body?: unknown) => {
    const res = await galleyRequest<T>(galley.url, method, `/api/v1${path}`, body);
    seen += `\n${JSON.stringify(res.body)}`;
    return res;
  };
  const finished = (runId: string) =>
    vi.waitFor(async () => {
      const run = (await api<RunJson>('GET', `/history/${runId}`)).body;
      if (run.status !== 'STOPPED') throw new Error(`run ${runId} is ${run.status}`);
      return run;
    }, PATIENCE);

  beforeAll(async () => {
    vault = await startFakeVault({ roleId: ROLE_ID, secretId: SECRET_ID, leaseSeconds: 2 });
    vault.secrets.set('secret/app/db', { password: VAULT_VALUE });
    dir = await mkdtemp(join(tmpdir(), 'galley-secrets-e2e-'));
    await writeFile(join(dir, 'role-id'), ROLE_ID);
    await writeFile(join(dir, 'secret-id'), SECRET_ID);
    await writeFile(join(dir, 'value'), GALLEY_VALUE);
    galley = await startGalley({
      args: [
        '--vault-addr',
        vault.url,
        '--vault-role-id-file',
        join(dir, 'role-id'),
        '--vault-secret-id-file',
        join(dir, 'secret-id'),
      ],
      // Everything the server says, debug lines included, is searched for the values.
      env: { GALLEY_LOG_LEVEL: 'debug' },
    });
    stream = new AbortController();
    const res = await fetch(`${galley.url}/api/v1/stream`, { signal: stream.signal });
    void (async () => {
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        seen += decoder.decode(value, { stream: true });
      }
    })().catch(() => undefined);
  }, 120_000);
  afterAll(async () => {
    stream?.abort();
    await galley?.stop();
    await vault?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a Vault secret and a Galley secret reach the job and appear nowhere else; a missing one fails the run naming it', async () => {
    const set = await galleyCli(galley.url, ['secret', 'set', 'db-pass', '--from-file', join(dir, 'value')]);
    expect(set).toMatchObject({ code: 0, stdout: 'set secret:db-pass\n' });
    const listed = await galleyCli(galley.url, ['secret', 'list', '--json']);
    seen += listed.stdout;
    expect(JSON.parse(listed.stdout)).toMatchObject({ total: 1, secrets: [{ name: 'db-pass' }] });

    const defined = await api<{ definition_id: string }>('POST', '/task', {
      alias: 'uses-secrets',
      image: 'ubuntu:24.04',
      memory: 32,
      cpu: 100,
      command: 'printf %s "$FROM_VAULT" | sha256sum; printf %s "$FROM_GALLEY" | sha256sum',
      env: [
        { name: 'FROM_VAULT', value: 'vault:app/db#password' },
        { name: 'FROM_GALLEY', value: 'secret:db-pass' },
      ],
    });
    expect(defined.status).toBe(200);
    const bad = await api<{ code: string; fields: Record<string, string> }>(
      'PUT',
      '/task/alias/uses-secrets/execute',
      { run_tags: { owner_id: 'tester' }, env: [{ name: 'X', value: 'vault:no-key-here' }] },
    );
    expect(bad).toMatchObject({ status: 422, body: { code: 'INVALID_SECRET_REFERENCE' } });
    expect(Object.keys(bad.body.fields)).toEqual(['env[0].value']);

    const exec = await api<RunJson>('PUT', '/task/alias/uses-secrets/execute', {
      run_tags: { owner_id: 'tester' },
    });
    expect(exec.status).toBe(200);
    const run = await finished(exec.body.run_id);
    expect(run).toMatchObject({ exit_code: 0, attempt_count: 1 });
    // Stored and answered as references.
    expect(run.env).toEqual(
      expect.arrayContaining([
        { name: 'FROM_VAULT', value: 'vault:app/db#password' },
        { name: 'FROM_GALLEY', value: 'secret:db-pass' },
      ]),
    );
    const log = await vi.waitFor(async () => {
      const text = (await api<{ log: string }>('GET', `/${run.run_id}/logs`)).body.log;
      if (!text.includes(sha256(GALLEY_VALUE))) throw new Error(`log so far: ${text}`);
      return text;
    }, PATIENCE);
    expect(log).toContain(sha256(VAULT_VALUE));

    // A reference that cannot be resolved fails the attempt, once, with a reason naming it.
    const missing = await api<RunJson>('PUT', '/task/alias/uses-secrets/execute', {
      run_tags: { owner_id: 'tester' },
      env: [{ name: 'FROM_GALLEY', value: 'secret:nope' }],
    });
    const failed = await finished(missing.body.run_id);
    expect(failed.attempt_count).toBe(1);
    expect(failed.exit_reason).toMatch(
      /configuration failure: env FROM_GALLEY: secret:nope: no such secret is stored/,
    );

    for (const path of [
      `/history/${run.run_id}`,
      `/task/${defined.body.definition_id}/history`,
      '/history',
      `/task/${defined.body.definition_id}`,
      `/${run.run_id}/logs?stream=stderr`,
      `/${run.run_id}/events`,
      '/secrets',
    ])
      expect((await api('GET', path)).status).toBe(200);
    // The stream has seen both runs end before it is searched.
    await vi.waitFor(() => {
      if (!seen.includes(failed.run_id) || !seen.includes('configuration failure'))
        throw new Error('stream behind');
    }, PATIENCE);
    // The token was renewed before its two-second lease ended.
    await expect
      .poll(() => vault.count('POST /v1/auth/token/renew-self'), PATIENCE)
      .toBeGreaterThanOrEqual(1);

    const everything = `${seen}\n${galley.output()}`;
    expect(everything).toContain('vault:app/db#password');
    for (const value of [VAULT_VALUE, GALLEY_VALUE, SECRET_ID]) {
      expect(everything).not.toContain(value);
      expect(everything).not.toContain(Buffer.from(value).toString('base64'));
    }
  }, 120_000);
});
