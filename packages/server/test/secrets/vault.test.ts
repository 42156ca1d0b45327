import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference, referenceProblems } from '../../src/secrets/references.js';
import { VaultClient, type VaultSettings } from '../../src/secrets/vault.js';
import { type FakeVault, startFakeVault } from './fake-vault.js';

const logger = pino({ level: 'silent' });

describe('secret references', () => {
  it('parses vault:PATH#KEY and secret:NAME, and names the entry of a malformed one', () => {
    expect(parseReference('vault:team/app/db#password')).toEqual({
      kind: 'vault',
      path: 'team/app/db',
      key: 'password',
      text: 'vault:team/app/db#password',
    });
    expect(parseReference('secret:db-pass')).toEqual({
      kind: 'secret',
      name: 'db-pass',
      text: 'secret:db-pass',
    });
    expect(parseReference('plain value')).toBeNull();
    expect(
      referenceProblems({
        env: [
          { name: 'OK', value: 'vault:a/b#c' },
          { name: 'BAD', value: 'vault:a/../b' },
        ],
        processes: { web: { environment: { X: 'secret:', Y: 'secret:fine' } } },
      }).map((p) => p.field),
    ).toEqual(['env[1].value', 'processes.web.environment.X']);
  });
});

describe('Vault client against a fake Vault (KV v2, AppRole login, renew-self)', () => {
  let vault: FakeVault;
  let dir: string;
  let settings: VaultSettings;

  beforeAll(async () => {
    vault = await startFakeVault({
      roleId: 'role-1',
      secretId: 'sid-1',
      staticTokens: ['root-token'],
      leaseSeconds: 1,
    });
    vault.secrets.set('secret/app/db', { password: 'p4ss', user: 'app' });
    dir = await mkdtemp(join(tmpdir(), 'galley-vault-'));
    await writeFile(join(dir, 'role'), 'role-1\n');
    await writeFile(join(dir, 'sid'), 'sid-1\n');
    settings = {
      addr: vault.url,
      mount: 'secret',
      namespace: 'team-a',
      auth: { kind: 'approle', roleIdFile: join(dir, 'role'), secretIdFile: join(dir, 'sid') },
      timeoutMs: 2_000,
    };
  });
  afterAll(async () => {
    await vault.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs in with AppRole, reads KV v2 fields, and renews its token before the lease ends', async () => {
    const client = new VaultClient(settings, logger);
    try {
      expect(await client.readKv('app/db', 'vault:app/db#password')).toEqual({
        password: 'p4ss',
        user: 'app',
      });
      expect(vault.count('POST /v1/auth/approle/login')).toBe(1);
      expect(vault.lastHeaders()['x-vault-namespace']).toBe('team-a');
      // A one-second lease: renew-self comes before it ends, again and again, and reads keep working.
      await expect
        .poll(() => vault.count('POST /v1/auth/token/renew-self'), { timeout: 20_000 })
        .toBeGreaterThanOrEqual(2);
      expect(await client.readKv('app/db', 'vault:app/db#user')).toEqual({ password: 'p4ss', user: 'app' });
      expect(vault.count('POST /v1/auth/approle/login')).toBe(1);
    } finally {
      client.close();
    }
  });

  it('says which reference failed and why: not found, permission denied, Vault unreachable', async () => {
    const client = new VaultClient({ ...settings, auth: { kind: 'token', token: 'root-token' } }, logger);
    await expect(client.readKv('app/none', 'vault:app/none#x')).rejects.toThrow(
      'vault:app/none#x: Vault has no secret at secret/app/none',
    );
    const denied = new VaultClient({ ...settings, auth: { kind: 'token', token: 'wrong' } }, logger);
    await expect(denied.readKv('app/db', 'vault:app/db#password')).rejects.toThrow(
      'vault:app/db#password: Vault denied the read (permission denied)',
    );
    const gone = new VaultClient(
      { ...settings, addr: 'http://127.0.0.1:9', auth: { kind: 'token', token: 't' } },
      logger,
    );
    await expect(gone.readKv('app/db', 'vault:app/db#password')).rejects.toThrow(
      /vault:app\/db#password: Vault at http:\/\/127\.0\.0\.1:9 is unreachable/,
    );
  });
});
