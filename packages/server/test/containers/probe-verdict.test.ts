import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPodman, TEST_IMAGE, TEST_IMAGE_MARK } from '@galley/testkit';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseRuntime } from '../../src/backends/local/container-probe.js';
import { runCli } from '../../src/backends/local/container-cli.js';
import type { ContainerSettings } from '../../src/config/container-settings.js';

// The Podman probe's verdict is kept in the data directory: a restart on the same boot, with the
// same Podman and configuration, runs no probe container (1–4 s of each start); any change probes
// again, and a failed probe is never kept.

const logger = pino({ level: 'silent' });
const settings = (runtime: ContainerSettings['runtime']): ContainerSettings => ({
  runtime,
  pullPolicy: 'if-not-present',
  credentials: [],
});

let dir: string;
let bin: string;
let log: string;
let stateDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'galley-verdict-'));
  bin = join(dir, 'bin');
  log = join(dir, 'podman.log');
  stateDir = join(dir, 'state');
  await mkdir(bin);
  await mkdir(stateDir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The podman commands run so far (each one's first argument). */
const commands = async () =>
  (await readFile(log, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[0]);

const choose = (runtime: ContainerSettings['runtime'] = 'podman', env: Record<string, string> = {}) =>
  chooseRuntime(settings(runtime), { stateDir, baseEnv: { PATH: bin, HOME: dir, ...env }, logger });

/**
 * A stand-in `podman` CLI answering as Podman does: `run` of a program that is not in the root
 * fails with the container's exit 127 (the container was made), or with the CLI's own 125 when
 * `failRun`; `info --format` prints version, OCI runtime and cgroup manager.
 */
async function standInPodman(options: { failRun?: boolean; version?: string } = {}) {
  const script = `#!/bin/sh
echo "$*" >> '${log}'
case "$1" in
  run) ${options.failRun ? `echo 'Error: OCI runtime error: crun: cannot set limits' >&2; exit 125` : `echo 'Error: crun: executable file /galley-probe not found' >&2; exit 127`} ;;
  info) echo '${options.version ?? '5.4.2'} runc cgroupfs' ;;
esac
`;
  await writeFile(join(bin, 'podman'), script);
  await chmod(join(bin, 'podman'), 0o755);
}

describe('the Podman probe verdict across restarts (a stand-in podman CLI)', () => {
  it('probes at the first start, keeps the verdict, and runs no podman command at the next', async () => {
    await standInPodman();
    const first = await choose();
    expect(first.why).toBe('a probe container ran');
    expect(first.runtime?.description).toBe("podman 5.4.2 (runc, cgroupfs, Podman's configuration)");
    expect(await commands()).toEqual(['run', 'info']);
    // Owner-only: it is the data directory's.
    expect((await stat(join(stateDir, 'podman-verdict.json'))).mode & 0o777).toBe(0o600);

    const again = await choose();
    expect(await commands()).toEqual(['run', 'info']);
    expect(again.why).toMatch(/^a probe container ran at an earlier start/);
    expect(again.runtime).toEqual(first.runtime);
  });

  it('probes again when the podman binary changed (an upgrade)', async () => {
    await standInPodman();
    await choose();
    await standInPodman({ version: '5.6.10' });
    const after = await choose();
    expect(await commands()).toEqual(['run', 'info', 'run', 'info']);
    expect(after.runtime?.description).toMatch(/^podman 5\.6\.10 /);
    // And the new verdict is the one kept.
    await choose();
    expect(await commands()).toHaveLength(4);
  });

  it('probes again when the environment Podman reads changed', async () => {
    await standInPodman();
    await choose();
    const conf = join(dir, 'containers.conf');
    await writeFile(conf, '[engine]\n');
    await choose('podman', { CONTAINERS_CONF: conf });
    expect(await commands()).toEqual(['run', 'info', 'run', 'info']);
    // An edit of a configuration file Podman reads counts too.
    await writeFile(conf, '[engine]\nruntime = "runc"\n');
    await choose('podman', { CONTAINERS_CONF: conf });
    expect(await commands()).toHaveLength(6);
  });

  it('never keeps a failed probe: host mode, and the next start probes again', async () => {
    await standInPodman({ failRun: true });
    const first = await choose('auto');
    expect(first.runtime).toBeNull();
    expect(first.why).toMatch(
      /Podman: it cannot run a container \(with Podman's configuration: .*cannot set limits/,
    );
    const runs = (await commands()).filter((c) => c === 'run').length;
    expect(runs).toBeGreaterThan(0);
    await choose('auto');
    expect((await commands()).filter((c) => c === 'run')).toHaveLength(runs * 2);
    await expect(choose('podman')).rejects.toThrow(/--container-runtime podman: it cannot run a container/);
  });

  it('ignores a kept verdict it cannot read', async () => {
    await standInPodman();
    await choose();
    await writeFile(join(stateDir, 'podman-verdict.json'), '{"key": 1');
    const again = await choose();
    expect(again.why).toBe('a probe container ran');
    expect(await commands()).toEqual(['run', 'info', 'run', 'info']);
  });
});

const podman = await findPodman('the Podman probe verdict (real Podman)');

describe.runIf(podman.available)('the Podman probe verdict across restarts (real Podman)', () => {
  it('reuses a real probe’s verdict, and the runtime it gives runs a container', async () => {
    const real = podman.available ? podman.service : null!;
    // Podman itself, through a shim that logs each command.
    await writeFile(join(bin, 'podman'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real.cli}' "$@"\n`);
    await chmod(join(bin, 'podman'), 0o755);
    const path = `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`;
    const env = { PATH: path, HOME: process.env['HOME'] ?? dir };
    const pick = () => chooseRuntime(settings('podman'), { stateDir, baseEnv: env, logger });
    const first = await pick();
    expect(first.runtime?.kind).toBe('podman');
    const probed = await commands();
    expect(probed).toContain('run');

    const again = await pick();
    expect(await commands()).toEqual(probed);
    expect(again.runtime).toEqual(first.runtime);
    const r = await runCli(
      again.runtime!,
      ['run', '--rm', TEST_IMAGE, 'cat', '/etc/galley-test-image'],
      120_000,
    );
    expect(r.stdout.trim()).toBe(TEST_IMAGE_MARK);
  }, 180_000);
});
