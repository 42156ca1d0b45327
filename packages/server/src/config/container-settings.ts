/**
 * How the local backend runs images: which container runtime (probed at start with `auto`), when
 * images are pulled, with which registry credentials, and which host ports it hands out. One
 * validated object, resolved once from the flat config.
 */

/** `auto`: Docker when its daemon answers, else Podman when it can run a container, else `none` (host mode). */
export type ContainerRuntimeSetting = 'auto' | 'docker' | 'podman' | 'none';

/** When an image is pulled before a container starts. */
export type PullPolicy = 'if-not-present' | 'always' | 'never';

/** A login to one registry. Never logged, never answered by the API. */
export interface RegistryCredential {
  registry: string;
  username: string;
  password: string;
}

export interface ContainerSettings {
  runtime: ContainerRuntimeSetting;
  pullPolicy: PullPolicy;
  credentials: RegistryCredential[];
}

/** The flat settings this module reads. */
export interface ContainerFlatSettings {
  containerRuntime: string;
  imagePullPolicy: string;
  registryCredentials: string | null;
  localPorts: string | null;
}

/** `registry=user:password`, several separated by `;`; problems named, the password never shown. */
function parseCredentials(text: string | null, problems: string[]): RegistryCredential[] {
  if (text === null || text.trim() === '') return [];
  const out: RegistryCredential[] = [];
  text.split(';').forEach((entry, i) => {
    const eq = entry.indexOf('=');
    const colon = entry.indexOf(':', eq + 1);
    const registry = entry.slice(0, eq).trim();
    const username = entry.slice(eq + 1, colon).trim();
    if (eq <= 0 || colon < 0 || registry === '' || username === '') {
      problems.push(
        `registryCredentials: entry ${i + 1} is not registry=user:password (its text is not shown)`,
      );
      return;
    }
    out.push({ registry, username, password: entry.slice(colon + 1) });
  });
  return out;
}

/** `31000-32000` or `31000-31499,32000-32099`: inclusive ranges; empty = none. */
export function parsePortRanges(text: string | null, problems: string[]): [number, number][] {
  if (text === null || text.trim() === '' || text.trim() === 'none') return [];
  const ranges: [number, number][] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(part);
    const lo = Number(m?.[1]);
    const hi = Number(m?.[2]);
    if (!m || lo < 1 || hi > 65535 || lo > hi) {
      problems.push(`localPorts: "${part.trim()}" is not a range of ports like 31000-32000`);
      continue;
    }
    ranges.push([lo, hi]);
  }
  return ranges;
}

/** The container settings; problems (bad credentials, bad port ranges) are added to `problems`. */
export function resolveContainerSettings(
  f: ContainerFlatSettings,
  problems: string[],
): { containers: ContainerSettings; ports: [number, number][] } {
  return {
    containers: {
      runtime: f.containerRuntime as ContainerRuntimeSetting,
      pullPolicy: f.imagePullPolicy as PullPolicy,
      credentials: parseCredentials(f.registryCredentials, problems),
    },
    ports: parsePortRanges(f.localPorts, problems),
  };
}
