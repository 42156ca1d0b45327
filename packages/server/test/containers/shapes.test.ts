import { describe, expect, it } from 'vitest';
import {
  containerEnv,
  containerName,
  type ContainerLaunch,
  type ContainerRuntime,
  containerScript,
  runArgs,
} from '../../src/backends/local/container-runtime.js';
import { lastWords } from '../../src/backends/local/container-cli.js';
import { freeRanges, portEnv, rangeSize, takePorts } from '../../src/backends/local/local-ports.js';
import { UsageMeter } from '../../src/backends/local/usage.js';
import { redactConfig, resolveConfig } from '../../src/config/config.js';

// The pure parts of running images locally: container names, the `run` command line, the pull
// step of each policy, the env file, host port ranges, usage peaks, and the settings.

const podman: ContainerRuntime = {
  kind: 'podman',
  cli: '/usr/bin/podman',
  env: { PATH: '/usr/bin:/bin' },
  init: true,
  cgroupParent: true,
  pullPolicy: 'if-not-present',
  auth: null,
  description: 'podman (test)',
};

const launch: ContainerLaunch = {
  image: 'localhost/img:1',
  script: 'echo "hello $USERNAME"',
  args: [],
  env: { USERNAME: 'you' },
  memMb: 512,
  cpus: 0.5,
  ports: [{ host: 31000, container: 8080, protocol: 'tcp' }],
  network: 'bridge',
};

describe('containers: names, command lines and the pull step', () => {
  it('names a container after its attempt or task id, kept apart by a hash where characters had to change', () => {
    expect(containerName('3f2a-run.1')).toBe('galley-3f2a-run.1');
    const task = containerName('workers$1.2.ab:web');
    expect(task).toMatch(/^galley-workers-1\.2\.ab-web-[0-9a-f]{8}$/);
    expect(containerName('workers$1.2.ab-web')).not.toBe(task);
  });

  it('runs the command through /bin/sh -c in the image, with its limits, ports, env file, name, label and init', () => {
    const args = runArgs(podman, 'r.1', 'galley-r.1', launch, {});
    expect(args.slice(0, 7)).toEqual([
      'run',
      '--name',
      'galley-r.1',
      '--label',
      'galley.id=r.1',
      '--pull',
      'never',
    ]);
    for (const flag of [
      ['--init'],
      ['--log-driver', 'passthrough'],
      ['--cgroup-parent', '/galley/galley-r.1'],
      ['--memory', '512m', '--memory-swap', '512m'],
      ['--cpus', '0.5'],
      ['--env-file', 'container.env'],
      ['--publish', '31000:8080/tcp'],
    ])
      expect(args.join(' ')).toContain(flag.join(' '));
    expect(args.slice(-5)).toEqual([
      '--entrypoint',
      '/bin/sh',
      'localhost/img:1',
      '-c',
      'echo "hello $USERNAME"',
    ]);
  });

  it('raises a memory limit below what the runtimes take to 6 MB', () => {
    expect(runArgs(podman, 'r', 'n', { ...launch, memMb: 1 }, {}).join(' ')).toContain(
      '--memory 6m --memory-swap 6m',
    );
    expect(runArgs(podman, 'r', 'n', { ...launch, memMb: 0 }, {})).not.toContain('--memory');
  });

  it("runs the image's entrypoint with the arguments when there is no script, and binds host ports on the host network", () => {
    const args = runArgs(
      podman,
      't',
      'galley-t',
      { ...launch, script: null, args: ['worker', '-l', 'info'], network: 'host' },
      {},
    );
    expect(args.slice(-4)).toEqual(['localhost/img:1', 'worker', '-l', 'info']);
    expect(args).toContain('host');
    expect(args).not.toContain('--publish');
    expect(args).not.toContain('--entrypoint');
  });

  it('keeps values off the command line: in the env file, or by name only for those it cannot carry', () => {
    const env = containerEnv({ A: '1', EMPTY: '', SPACED: 'a b', MULTI: 'x\ny', LEAD: ' x' });
    expect(env.file).toBe('A=1\nEMPTY=\nSPACED=a b\n');
    expect(env.literal).toEqual({ MULTI: 'x\ny', LEAD: ' x' });
    const args = runArgs(podman, 'r', 'n', launch, env.literal);
    expect(args).toContain('MULTI');
    expect(args.join(' ')).not.toContain('x\ny');
  });

  it('pulls as its policy says, and a failed pull leaves pull-failed and its words behind', () => {
    const ifNotPresent = containerScript(podman, 'r', 'n', launch, {});
    expect(ifNotPresent).toContain('if ! /usr/bin/podman image exists localhost/img:1');
    expect(ifNotPresent).toContain('/usr/bin/podman pull localhost/img:1 > pull.log 2>&1');
    expect(ifNotPresent).toContain(': > pull-failed; exit 125');
    expect(ifNotPresent.split('\n').at(-1)).toMatch(/^exec \/usr\/bin\/podman run /);
    const always = containerScript(
      { ...podman, pullPolicy: 'always', auth: '/d/auth.json' },
      'r',
      'n',
      launch,
      {},
    );
    expect(always).not.toContain('image exists');
    expect(always).toContain('pull --authfile /d/auth.json localhost/img:1');
    const never = containerScript({ ...podman, pullPolicy: 'never' }, 'r', 'n', launch, {});
    expect(never).not.toContain('podman pull');
    expect(never).toContain('the image pull policy is never');
    const docker = containerScript(
      { ...podman, kind: 'docker', cli: '/usr/bin/docker', auth: '/d/docker', cgroupParent: false },
      'r',
      'n',
      launch,
      {},
    );
    expect(docker).toContain('/usr/bin/docker image inspect localhost/img:1');
    expect(docker).toContain('/usr/bin/docker --config /d/docker pull localhost/img:1');
    expect(docker).not.toContain('passthrough');
    expect(docker).not.toContain('cgroup-parent');
  });

  it("words a CLI's failure by its last error line", () => {
    expect(
      lastWords('Trying to pull x...\nError: initializing source docker://x: connection refused\n'),
    ).toBe('initializing source docker://x: connection refused');
    expect(lastWords('')).toBe('no message');
  });
});

describe('containers: host ports and usage', () => {
  it('offers the ranges without the ports in use, and takes ports from them in order', () => {
    expect(freeRanges([[31000, 31005]], new Set([31000, 31003]))).toEqual([
      [31001, 31002],
      [31004, 31005],
    ]);
    expect(freeRanges([[1, 3]], new Set([1, 2, 3]))).toEqual([]);
    expect(rangeSize([[31000, 32000]])).toBe(1001);
    expect(
      takePorts(
        [
          [5, 6],
          [9, 20],
        ],
        3,
      ),
    ).toEqual([5, 6, 9]);
    expect(portEnv([31000, 31001], [8080])).toEqual({
      PORT0: '31000',
      PORT1: '31001',
      PORT_8080: '31000',
      PORTS: '31000,31001',
    });
  });

  it('keeps the memory peak and the highest CPU rate over an interval; a short process gets its average', () => {
    const m = new UsageMeter();
    m.observe({ memoryBytes: 10 * 1024 * 1024, cpuNs: 0, at: 0 });
    m.observe({ memoryBytes: 100 * 1024 * 1024, cpuNs: 500e6, at: 1000 });
    m.observe({ memoryBytes: 50 * 1024 * 1024, cpuNs: 600e6, at: 2000 });
    expect(m.usage(0, 2000)).toEqual({ maxMemoryMb: 100, maxCpuMillicores: 500 });

    const short = new UsageMeter();
    short.observe({ memoryBytes: null, cpuNs: 100e6, at: 300 });
    expect(short.usage(0, 400)).toEqual({ maxMemoryMb: null, maxCpuMillicores: 250 });
    expect(new UsageMeter().usage(null, 1)).toEqual({ maxMemoryMb: null, maxCpuMillicores: null });
  });
});

describe('containers: settings', () => {
  it('defaults to auto, if-not-present and the ports 31000-32000; registry passwords never reach the log', () => {
    const c = resolveConfig({ env: {} });
    expect(c.containers).toEqual({ runtime: 'auto', pullPolicy: 'if-not-present', credentials: [] });
    expect(c.local.ports).toEqual([[31000, 32000]]);
    const given = resolveConfig({
      env: { GALLEY_REGISTRY_CREDENTIALS: 'registry.example=bob:s3cr:et;other.example=al:pw' },
      flags: { containerRuntime: 'none', imagePullPolicy: 'never', localPorts: '40000-40009,41000-41000' },
    });
    expect(given.containers.runtime).toBe('none');
    expect(given.containers.pullPolicy).toBe('never');
    expect(given.containers.credentials).toEqual([
      { registry: 'registry.example', username: 'bob', password: 's3cr:et' },
      { registry: 'other.example', username: 'al', password: 'pw' },
    ]);
    expect(given.local.ports).toEqual([
      [40000, 40009],
      [41000, 41000],
    ]);
    const logged = JSON.stringify(redactConfig(given));
    expect(logged).not.toContain('s3cr');
    expect(logged).not.toContain('"pw"');
    expect(resolveConfig({ env: {}, flags: { localPorts: 'none' } }).local.ports).toEqual([]);
  });

  it('refuses a bad runtime, pull policy, port range or credential, naming each and never showing a password', () => {
    let message = '';
    try {
      resolveConfig({ env: {}, flags: { containerRuntime: 'lxc', imagePullPolicy: 'sometimes' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('containerRuntime (--container-runtime)');
    expect(message).toContain('imagePullPolicy (--image-pull-policy)');
    try {
      resolveConfig({
        env: {},
        flags: { localPorts: '32000-31000', registryCredentials: 'nopassword-secret' },
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('localPorts: "32000-31000" is not a range');
    expect(message).toContain('registryCredentials: entry 1 is not registry=user:password');
    expect(message).not.toContain('nopassword-secret');
  });
});
