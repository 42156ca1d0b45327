import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  define,
  execute,
  FAST_FAKE,
  mesosFlags,
  needsFake,
  runReaches,
  startGalley,
  tempDir,
  type Galley,
} from './harness.js';

// Several Mesos clusters beside the local one: an execute's `cluster` chooses where it runs.

describe.runIf(needsFake('two Mesos clusters (needs two fake masters)'))(
  'several Mesos clusters (two fake masters)',
  // Generous: a loaded machine starts processes slowly; a failure still ends the test.
  { timeout: 120_000 },
  () => {
    let east: FakeMesos;
    let west: FakeMesos;
    let galley: Galley;
    let dir: Awaited<ReturnType<typeof tempDir>>;
    const masterOf = (f: FakeMesos) => f.masterUrls[0]!.replace(/^http:\/\//, '');

    beforeAll(async () => {
      east = await startFakeMesos({ ...FAST_FAKE, agents: 1 });
      west = await startFakeMesos({ ...FAST_FAKE, agents: 1 });
      dir = await tempDir();
      // The default cluster stays local; the Mesos clusters come from repeated --mesos-cluster.
      const flags = mesosFlags('unused').slice(4);
      galley = await startGalley(dir.path, [
        ...flags,
        '--mesos-cluster',
        `east=${masterOf(east)}`,
        '--mesos-cluster',
        `west=${masterOf(west)}`,
      ]);
    }, 120_000);
    afterAll(async () => {
      await galley?.stop();
      await east?.stop();
      await west?.stop();
      await dir?.remove();
    });

    it('runs each execute on the cluster it names, and answers 422 for an unknown one (fake master)', async () => {
      await define(galley.url, 'where', { command: 'echo here' });
      const onEast = await execute(galley.url, 'where', { cluster: 'east' });
      const onWest = await execute(galley.url, 'where', { cluster: 'west' });
      const onLocal = await execute(galley.url, 'where');
      const [e, w, l] = await Promise.all([
        runReaches(galley.url, onEast, 'STOPPED'),
        runReaches(galley.url, onWest, 'STOPPED'),
        runReaches(galley.url, onLocal, 'STOPPED'),
      ]);
      expect([e.cluster, e.engine, e.exit_code]).toEqual(['east', 'mesos', 0]);
      expect([w.cluster, w.engine, w.exit_code]).toEqual(['west', 'mesos', 0]);
      expect([l.cluster, l.engine, l.exit_code]).toEqual(['local', 'local', 0]);
      expect(east.state().tasks.map((t) => t.taskId)).toEqual([`${onEast}.1`]);
      expect(west.state().tasks.map((t) => t.taskId)).toEqual([`${onWest}.1`]);

      const unknown = await api(galley.url, 'PUT', '/task/alias/where/execute', {
        run_tags: { owner_id: 'tester' },
        cluster: 'north',
      });
      expect(unknown.status).toBe(422);
      expect(unknown.body).toMatchObject({ code: 'UNKNOWN_CLUSTER' });
      expect(unknown.body.message).toContain('"north" is not configured');
      expect(unknown.body.message).toMatch(/east/);
    });

    it('lists every cluster with its state and its own framework (fake master)', async () => {
      const body = (await api(galley.url, 'GET', '/clusters')).body;
      expect(body.clusters).toEqual(['local', 'east', 'west']);
      const byName = Object.fromEntries(body.details.map((d: { name: string }) => [d.name, d]));
      expect(byName.local).toMatchObject({ backend: 'local', default: true });
      expect(byName.east).toMatchObject({ backend: 'mesos', state: 'subscribed', default: false });
      expect(byName.east.mesos.framework_id).toBe(east.state().frameworks[0]!.id);
      expect(byName.west.mesos.framework_id).toBe(west.state().frameworks[0]!.id);
      expect(byName.east.mesos.agents).toBe(1);
    });
  },
);
