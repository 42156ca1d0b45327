import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, galleyCli, type GalleyProcess, startGalley } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The built CLI against the built server in auth `token` mode: the bootstrap token creates an
// admin token, which the CLI sends from GALLEY_TOKEN as `Authorization: Bearer`.

const gate = builtGalley('auth CLI');
const BOOTSTRAP = 'cli-test-bootstrap-token-0123456789abcdefghij';
let server: GalleyProcess;
let dir: string;

/** The built CLI with GALLEY_TOKEN set to `token` (unset when null). */
async function cli(token: string | null, args: string[]) {
  const before = process.env['GALLEY_TOKEN'];
  if (token === null) delete process.env['GALLEY_TOKEN'];
  else process.env['GALLEY_TOKEN'] = token;
  try {
    return await galleyCli(server.url, args);
  } finally {
    if (before === undefined) delete process.env['GALLEY_TOKEN'];
    else process.env['GALLEY_TOKEN'] = before;
  }
}

describe.runIf(gate.available)('galley CLI with auth token (built)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-cli-auth-'));
    await writeFile(join(dir, 'bootstrap'), BOOTSTRAP);
    // No config file of the machine's user may lend the CLI a token.
    process.env['XDG_CONFIG_HOME'] = dir;
    server = await startGalley({
      args: ['--auth', 'token', '--auth-bootstrap-token-file', join(dir, 'bootstrap')],
    });
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('says the auth mode at start-up, and sends GALLEY_TOKEN as a bearer token', async () => {
    expect(server.output()).toContain('galley: auth: token');
    const refused = await cli(null, ['runs']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('needs credentials');
    const created = await cli(BOOTSTRAP, ['token', 'create', '--name', 'ci', '--group', 'admin']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^glt_/);
    const who = await cli(token, ['whoami']);
    expect(who.stdout).toContain('ci (auth token; groups: admin)');
    const list = await cli(token, ['token', 'list']);
    expect(list.stdout).toContain('ci');
    expect(list.stdout).not.toContain(token);
  });
});
