import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Podman's probe verdict, kept in the data directory across restarts. The probe runs a container
 * (twice or more where Podman's own configuration fails, then `podman info`): 1–4 s of every start
 * on a machine with Podman, most of a restart. What decides whether a container runs here does
 * not change between two starts unless something below does, so a verdict is reused only while
 * all of it is as it was:
 *  - the boot (the kernel's boot id: cgroups, namespaces and mounts are set up at boot);
 *  - the user, and the environment Podman reads (PATH, HOME, XDG_RUNTIME_DIR, CONTAINERS_CONF…);
 *  - the podman and OCI runtime binaries, and every configuration file Podman reads (path, size,
 *    modification time, inode: an upgrade or an edit changes one);
 *  - the text of Galley's own containers.conf.
 * Only a verdict that a container ran is kept: a failure is probed again at the next start (it may
 * have been passing: a full disk, a held storage lock).
 */

const FILE = 'podman-verdict.json';
/** Bumped when what the key covers or the verdict holds changes. */
const FORMAT = 1;

/** What the probe found out: the container ran with this configuration, with or without `--init`. */
export interface PodmanVerdict {
  /** Which configuration ran it: Podman's own, or Galley's containers.conf. */
  config: 'podman' | 'galley';
  init: boolean;
  /** `podman info`: version, OCI runtime and cgroup manager. */
  version: string;
  oci: string;
  manager: string;
}

const ENV_READ = [
  'PATH',
  'HOME',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'CONTAINERS_CONF',
  'CONTAINERS_STORAGE_CONF',
];

/** The files whose change could change the verdict (absent ones count: one may appear). */
function filesRead(cli: string, env: Record<string, string>): string[] {
  const home = env['HOME'] ?? '';
  const config = env['XDG_CONFIG_HOME'] ?? (home ? join(home, '.config') : '');
  const files = [cli];
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/libexec/podman'])
    for (const name of ['runc', 'crun', 'conmon', 'netavark']) files.push(join(dir, name));
  for (const dir of [
    '/usr/share/containers',
    '/etc/containers',
    ...(config ? [join(config, 'containers')] : []),
  ])
    for (const name of ['containers.conf', 'storage.conf']) files.push(join(dir, name));
  for (const name of ['CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF']) if (env[name]) files.push(env[name]);
  return files;
}

/**
 * The key a verdict is kept under on this boot with this environment; null where there is no boot
 * id to tie it to (then nothing is kept).
 */
export async function verdictKey(
  cli: string,
  env: Record<string, string>,
  /** Galley's own containers.conf (its text: the file is written again at each start). */
  ownConf: string,
): Promise<string | null> {
  let boot: string;
  try {
    boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return null;
  }
  const hash = createHash('sha256');
  hash.update(`${FORMAT}\n${boot}\n${process.getuid?.() ?? ''}\n`);
  for (const name of ENV_READ) hash.update(`${name}=${env[name] ?? ''}\n`);
  hash.update(`${ownConf}\n`);
  for (const file of filesRead(cli, env)) {
    const s = await stat(file).catch(() => null);
    hash.update(s ? `${file} ${s.size} ${s.mtimeMs} ${s.ino}\n` : `${file} absent\n`);
  }
  return hash.digest('hex');
}

/** The kept verdict under `key`; null when there is none, or another key's, or it does not parse. */
export async function keptVerdict(stateDir: string, key: string): Promise<PodmanVerdict | null> {
  try {
    const kept = JSON.parse(await readFile(join(stateDir, FILE), 'utf8')) as {
      key?: unknown;
      verdict?: unknown;
    };
    const v = kept.verdict as Partial<PodmanVerdict> | undefined;
    if (kept.key !== key || !v) return null;
    if (v.config !== 'podman' && v.config !== 'galley') return null;
    if (typeof v.init !== 'boolean') return null;
    if (![v.version, v.oci, v.manager].every((s) => typeof s === 'string')) return null;
    return { config: v.config, init: v.init, version: v.version!, oci: v.oci!, manager: v.manager! };
  } catch {
    return null;
  }
}

/** Keeps a verdict under `key` for the next start. */
export async function keepVerdict(stateDir: string, key: string, verdict: PodmanVerdict): Promise<void> {
  await writeFile(join(stateDir, FILE), `${JSON.stringify({ key, verdict })}\n`, { mode: 0o600 });
}
