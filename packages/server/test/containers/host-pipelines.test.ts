import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, unavailable } from '@galley/testkit';
import { describe, expect, it, vi } from 'vitest';
import { HostCgroups, type HostCgroupRoots, probeHostCgroups } from '../../src/backends/local/host-cgroup.js';
import { PATIENT, PATIENCE_MS } from '../e2e/harness.js';
import { getPipeline, request, type TaskJson } from '../pipelines/harness.js';
import { useLocalPipelineServer } from '../pipelines/local-server.js';

// Host mode (no container runtime) with the server allowed to make cgroups: a pipeline's process
// runs in its own cgroup with its `resources`, as a run attempt does. One that allocates past its
// memory is OOM-killed, its instance says so, and it is restarted as the pipeline's restart
// policy says; its cgroups go once it ends.

const built = builtGalley('host-mode pipelines in cgroups').available;
const gate = await (async () => {
  if (process.getuid?.() !== 0) return unavailable('host cgroups', 'the tests do not run as root');
  const probe = await probeHostCgroups(await mkdtemp(join(tmpdir(), 'galley-cgprobe-')));
  if (!probe.cgroups) return unavailable('host cgroups', probe.limits.memory.how);
  return { available: true as const, service: probe.cgroups.roots as HostCgroupRoots };
})();

describe.runIf(built && gate.available)('host-mode pipeline processes are held by a cgroup', PATIENT, () => {
  const server = useLocalPipelineServer('galley-hostpipe-');
  const url = server.url;

  it('OOM-kills a process that allocates past its memory, reports it on its instance and restarts it per the policy; its cgroups go', async () => {
    const spec = {
      id: 'hungry',
      instances: 1,
      processes: {
        eater: {
          id: 'eater',
          shell: true,
          // dd's one 100 MiB buffer, every page written by the read from /dev/zero.
          command: 'echo starting; dd if=/dev/zero of=/dev/null bs=100M count=2',
          resources: { cpu: 0.5, mem: 32 },
          kill_grace_period: 1,
        },
      },
    };
    expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
    // Two OOM ends of the same instance (a launch's process ends once: the second is a restart's),
    // and the instance backing off between them as its restart policy says.
    const exits = new Set<string>();
    let backingOff: string | null = null;
    await vi.waitFor(
      async () => {
        const t: TaskJson | undefined = (await getPipeline(url(), 'hungry')).tasks[0];
        if (t?.last_exit) {
          expect(t.id).toBe('hungry.1');
          expect(t.last_exit).toMatchObject({ process: 'eater' });
          expect(t.last_exit.message).toMatch(/^out of memory \(limit 32 MB\)/);
          exits.add(t.last_exit.at);
          if (t.status === 'backing-off') backingOff = t.message;
        }
        if (!t || exits.size < 2 || backingOff === null)
          throw new Error(`not OOM-killed and restarted yet: ${JSON.stringify(t)}`);
      },
      { timeout: 2 * PATIENCE_MS, interval: 50 },
    );
    expect(backingOff).toMatch(
      /^process eater exited .*\(out of memory \(limit 32 MB\).*\); restarting in \d+ s$/,
    );

    // Deleted, nothing of it is left in this data directory's cgroup level.
    expect((await request(url(), 'DELETE', '/pipelines/hungry')).status).toBe(204);
    const roots = (gate.available ? gate.service : null!) as HostCgroupRoots;
    const level = join(
      roots.version === 2 ? roots.root : roots.memory,
      new HostCgroups(roots, server.data()).base,
    );
    await vi.waitFor(
      () => {
        const left = existsSync(level) ? readdirSync(level, { withFileTypes: true }) : [];
        expect(left.filter((e) => e.isDirectory()).map((e) => e.name)).toEqual([]);
      },
      { timeout: PATIENCE_MS, interval: 100 },
    );
  });
});
