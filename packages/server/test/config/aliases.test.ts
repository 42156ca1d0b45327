import { describe, expect, it } from 'vitest';
import type { AliasUse } from '../../src/config/aliases.js';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { serveCommand } from '../../src/cli/commands/serve.js';

describe("Flotilla's and Faustian's configuration names", () => {
  it("takes Faustian's LISTEN_ADDR in Go's ':port' form as every interface", () => {
    const uses: AliasUse[] = [];
    const c = resolveConfig({ env: { LISTEN_ADDR: ':3000' }, onAlias: (u) => uses.push(u) });
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 3000 });
    expect(uses).toEqual([
      {
        name: 'LISTEN_ADDR',
        from: 'Faustian',
        key: 'listen',
        galley: '--listen (GALLEY_LISTEN)',
        used: true,
      },
    ]);
  });

  it("takes Flotilla's http.server.listen_address and read timeout as env vars", () => {
    const c = resolveConfig({
      env: { HTTP_SERVER_LISTEN_ADDRESS: '127.0.0.1:3001', HTTP_SERVER_READ_TIMEOUT_SECONDS: '7' },
    });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 3001 });
    expect(c.http.requestTimeoutMs).toBe(7000);
  });

  it('takes MESOS_MASTER (selecting the Mesos backend), MESOS_USER, ROLES and FLOTILLA_MODE', () => {
    const c = resolveConfig({
      env: {
        MESOS_MASTER: 'zk://zk1:2181/mesos',
        MESOS_USER: 'root',
        ROLES: 'batch,web',
        FLOTILLA_MODE: 'prod',
        DATABASE_URL: 'postgres://u@db/x',
      },
    });
    expect(c.backend).toBe('mesos');
    expect(c.mesos.clusters.map((m) => m.master)).toEqual(['zk://zk1:2181/mesos']);
    expect(c.mesos.user).toBe('root');
    expect(c.serverMode).toBe('prod');
    expect(c.databaseUrl).toBe('postgres://u@db/x');
    expect(c.mesos.roles).toEqual(['batch', 'web']);
  });

  it("lets Galley's own names win, and reports the alias as ignored", () => {
    const uses: AliasUse[] = [];
    const c = resolveConfig({
      env: { LISTEN_ADDR: ':3000', GALLEY_LISTEN: '127.0.0.1:4000', FLOTILLA_MODE: 'prod' },
      flags: { serverMode: 'staging', backend: 'local' },
      onAlias: (u) => uses.push(u),
    });
    expect(c.listen.port).toBe(4000);
    expect(c.serverMode).toBe('staging');
    expect(uses.map((u) => [u.name, u.used])).toEqual([
      ['LISTEN_ADDR', false],
      ['FLOTILLA_MODE', false],
    ]);
    // MESOS_MASTER with a Galley --backend given: the backend stays.
    const local = resolveConfig({ env: { MESOS_MASTER: 'm:5050' }, flags: { backend: 'local' } });
    expect(local.backend).toBe('local');
  });

  it("takes Faustian's --listen-addr, --hostname and --roles flags, Galley's flags first", () => {
    const c = resolveConfig({
      env: {},
      aliasFlags: { '--listen-addr': ':3002', '--hostname': 'faust1.example', '--roles': 'batch' },
    });
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 3002 });
    expect(c.ha.advertiseUrl).toBe('http://faust1.example:3002');
    const d = resolveConfig({
      env: {},
      flags: { listen: '127.0.0.1:5' },
      aliasFlags: { '--listen-addr': ':3002' },
    });
    expect(d.listen.port).toBe(5);
  });

  it('names the alias when its value is bad', () => {
    let error: unknown;
    try {
      resolveConfig({ env: { LISTEN_ADDR: 'nowhere' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join('\n')).toContain('listen (LISTEN_ADDR)');
  });

  it('galley serve takes the alias flags', () => {
    const serve = serveCommand();
    const flags = serve.options.map((o) => o.long);
    expect(flags).toEqual(expect.arrayContaining(['--listen-addr', '--hostname', '--roles']));
  });
});
