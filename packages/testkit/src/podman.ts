import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile, copyFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServiceGate, unavailable } from './services.js';

/**
 * Podman for the container tests: Debian's `podman` (with `runc`) and a test image built here, with
 * no registry: Debian's static busybox (package busybox-static) in an empty root with its applets
 * linked, imported as `localhost/galley-test:1`. The image marks itself: `/etc/galley-test-image`
 * holds `galley-test`, and its `/bin/sh` is busybox, so a test can tell it ran in the image and not
 * on the host.
 */

/** The test image's name; its tag is the version of what buildImage puts in it. */
export const TEST_IMAGE = 'localhost/galley-test:1';

/** What the test image's `/etc/galley-test-image` holds. */
export const TEST_IMAGE_MARK = 'galley-test';

/** A Podman that runs containers here, and the test image in its store. */
export interface PodmanInstall {
  /** The CLI's path. */
  cli: string;
  /** The environment it runs containers with (CONTAINERS_CONF when its defaults cannot). */
  env: NodeJS.ProcessEnv;
  image: string;
  /** Runs the CLI; answers its exit code and output (never throws for a failing command). */
  run(args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

const BUSYBOX = '/bin/busybox';

/** A containers.conf for hosts where Podman's defaults cannot run a container (see the server's). */
const CONTAINERS_CONF = `[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
`;

let found: Promise<ServiceGate<PodmanInstall>> | null = null;

/**
 * Podman with the test image, for the suite `what`: available, or a printed skip — a failure
 * under GALLEY_REQUIRE_SERVICES=1. Built once per test process.
 */
export function findPodman(what: string): Promise<ServiceGate<PodmanInstall>> {
  found ??= setUp();
  return found.then((gate) => (gate.available ? gate : unavailable(what, gate.reason)));
}

function cliRunner(cli: string, env: NodeJS.ProcessEnv) {
  return (args: string[], timeoutMs = 120_000) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(cli, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });
}

async function setUp(): Promise<ServiceGate<PodmanInstall>> {
  const cli = ['/usr/bin/podman', '/usr/local/bin/podman'].find((p) => existsSync(p));
  const no = (reason: string): ServiceGate<PodmanInstall> => ({ available: false, reason });
  if (!cli) return no('podman is not installed (apt-get install podman runc busybox-static)');
  if (!existsSync(BUSYBOX)) return no(`${BUSYBOX} is missing (apt-get install busybox-static)`);
  const dir = await mkdtemp(join(tmpdir(), 'galley-podman-'));
  try {
    // Built once per machine: its tag is its version (change both together).
    if ((await cliRunner(cli, process.env)(['image', 'exists', TEST_IMAGE])).code !== 0)
      await buildImage(cli, dir).catch((err: unknown) => {
        throw new Error(`the test image could not be built: ${(err as Error).message}`);
      });
    // Podman's own configuration first, then the one that works on hybrid-cgroup hosts.
    const conf = join(tmpdir(), 'galley-test-containers.conf');
    await writeFile(conf, CONTAINERS_CONF);
    const tried: string[] = [];
    for (const env of [{ ...process.env }, { ...process.env, CONTAINERS_CONF: conf }]) {
      const run = cliRunner(cli, env);
      const r = await run(['run', '--rm', '--init', TEST_IMAGE, 'cat', '/etc/galley-test-image']);
      if (r.code === 0 && r.stdout.trim() === TEST_IMAGE_MARK)
        return { available: true, service: { cli, env, image: TEST_IMAGE, run } };
      tried.push(lastLine(r.stderr) || `exit ${r.code}`);
    }
    return no(`podman cannot run a container here: ${tried.join('; ')}`);
  } catch (err) {
    return no((err as Error).message);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The test image from the static busybox: an empty root, the applets linked, /etc marked. */
async function buildImage(cli: string, dir: string): Promise<void> {
  const root = join(dir, 'root');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'www']) await mkdir(join(root, d), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile(BUSYBOX, join(root, 'bin', 'busybox'));
  await chmod(join(root, 'bin', 'busybox'), 0o755);
  // Every applet this busybox has (sh, echo, cat, sleep, dd, httpd, …), as links.
  const applets = (await cliRunner(BUSYBOX, {})(['--list'])).stdout.split('\n').filter(Boolean);
  for (const applet of applets)
    if (applet !== 'busybox' && !applet.includes('/')) await symlink('busybox', join(root, 'bin', applet));
  await writeFile(join(root, 'etc', 'galley-test-image'), `${TEST_IMAGE_MARK}\n`);
  await writeFile(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(root, 'www', 'index.html'), 'hello from the galley test image\n');
  const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const imp = spawn(cli, ['import', '--change', 'ENV PATH=/bin', '-', TEST_IMAGE], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  tar.stdout.pipe(imp.stdin);
  let err = '';
  imp.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => imp.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`podman import failed: ${lastLine(err)}`);
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ''
  );
}
