import { describe, expect, it } from 'vitest';
import { ConfigError, redactConfig, resolveConfig } from '../../src/config/config.js';

// The Mesos settings through the server's config: flags, env vars, the config file's `;` list,
// and the secret kept out of logs.

describe('Mesos configuration', () => {
  it('makes a Mesos default cluster from --backend mesos and --mesos-master, beside the local one', () => {
    const c = resolveConfig({
      env: { GALLEY_MESOS_SECRET: 'hunter2', GALLEY_MESOS_CLUSTERS: 'west=leader.mesos:5050' },
      flags: {
        backend: 'mesos',
        mesosMaster: 'm1:5050,m2:5050',
        mesosRoles: 'batch,gpu',
        mesosPrincipal: 'galley',
        mesosContainerizer: 'docker',
        mesosNetwork: 'bridge',
      },
    });
    expect(c.backend).toBe('mesos');
    expect(c.cluster).toBe('mesos');
    expect(c.mesos.clusters).toEqual([
      { name: 'mesos', master: 'm1:5050,m2:5050' },
      { name: 'west', master: 'leader.mesos:5050' },
    ]);
    expect(c.mesos).toMatchObject({
      roles: ['batch', 'gpu'],
      principal: 'galley',
      secret: 'hunter2',
      containerizer: 'docker',
      network: 'BRIDGE',
      failoverTimeoutSeconds: 604_800,
    });
    const logged = JSON.stringify(redactConfig(c));
    expect(logged).not.toContain('hunter2');
    expect(redactConfig(c).mesos.secret).toBe('***');
  });

  it('keeps the local default cluster when only --mesos-cluster is given', () => {
    const c = resolveConfig({ env: {}, flags: { mesosCluster: 'east=zk://z:2181/mesos;west=w:5050' } });
    expect(c.backend).toBe('local');
    expect(c.cluster).toBe('local');
    expect(c.mesos.clusters.map((x) => x.name)).toEqual(['east', 'west']);
    // Images only where agents declare they run them (galley-images), by default.
    expect(c.mesos.containerizer).toBe('auto');
  });

  it('refuses --backend mesos without a master, naming the setting', () => {
    let error: unknown;
    try {
      resolveConfig({ env: {}, flags: { backend: 'mesos' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join('\n')).toMatch(
      /mesosMaster: --backend mesos needs --mesos-master/,
    );
  });
});
