import { builtGalley, startGalley } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, http, PATIENT, type ServerProcess } from '../e2e/harness.js';

// The built `galley serve` with Flotilla's and Faustian's names in its environment: each alias is
// logged at start with the Galley name to use, and the alias in use takes effect.

const built = builtGalley('config aliases at start').available;

describe.runIf(built)('galley serve with Flotilla and Faustian env vars', PATIENT, () => {
  let server: ServerProcess;

  beforeAll(async () => {
    // startGalley gives --listen 127.0.0.1:0: Galley's flag wins over LISTEN_ADDR.
    server = await startGalley({ env: { FLOTILLA_MODE: 'prod', LISTEN_ADDR: ':3000' } });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 120_000);

  it('logs each alias with the Galley name, and uses FLOTILLA_MODE as --server-mode', async () => {
    // The log is written asynchronously: wait for the lines.
    const taken = "Flotilla's FLOTILLA_MODE is taken as --server-mode (GALLEY_SERVER_MODE)";
    const ignored = "Faustian's LISTEN_ADDR is ignored: --listen (GALLEY_LISTEN) is given too and wins";
    const output = await eventually(async () => {
      const text = server.output();
      return text.includes(taken) && text.includes(ignored) ? text : undefined;
    });
    expect(output).toContain('"alias":"FLOTILLA_MODE"');
    expect(new URL(server.url).port).not.toBe('3000');
    const defined = await http(server.url, 'POST', '/task', {
      alias: 'mode',
      command: 'echo $FLOTILLA_SERVER_MODE',
    });
    expect(defined.status).toBe(200);
    const ran = await http<{ run_id: string; env: { name: string; value: string }[] }>(
      server.url,
      'PUT',
      '/task/alias/mode/execute',
      { run_tags: { owner_id: 'me' } },
    );
    expect(ran.body.env).toContainEqual({ name: 'FLOTILLA_SERVER_MODE', value: 'prod' });
    await eventually(async () => {
      const log = (await http<{ log: string }>(server.url, 'GET', `/${ran.body.run_id}/logs`)).body.log;
      return log.includes('prod') ? log : undefined;
    });
  });
});
