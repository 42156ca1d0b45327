import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  define,
  eventually,
  execute,
  fakeOf,
  getRun,
  mesosFlags,
  needsFake,
  runReaches,
  startGalley,
  startMaster,
  tempDir,
  type Galley,
  type TestMaster,
} from './harness.js';

// Images on agents as strict as stock Mesos agents: `auto` sends an image only to agents that
// declare galley-images and have not failed to launch one; a container launch failure ends the run
// with the flag that fixes it, is not retried, and is shown in /clusters. Needs the fake's agents
// with image providers (a real cluster has the agents it has).

interface ClusterJson {
  name: string;
  note: string;
}

async function mesosNote(url: string): Promise<string> {
  const clusters = (await api<{ details: ClusterJson[] }>(url, 'GET', '/clusters')).body;
  return clusters.details.find((d) => d.name === 'mesos')?.note ?? '';
}

describe.runIf(needsFake('images on agents with and without image providers (shaped fake agents)'))(
  'Mesos backend and container images (fake master)',
  { timeout: 120_000 },
  () => {
    describe('--mesos-containerizer auto (the default)', () => {
      let master: TestMaster;
      let galley: Galley;
      let dir: Awaited<ReturnType<typeof tempDir>>;

      beforeAll(async () => {
        master = await startMaster({
          agents: [
            // Runs Docker images in MESOS containers, and says so.
            {
              resources: 'cpus:2;mem:4096;disk:10000;ports:[31000-31100]',
              attributes: 'zone:good;galley-images:mesos',
              imageProviders: 'docker',
            },
            // A stock agent that says it does: its launches fail, and it is learned.
            {
              resources: 'cpus:2;mem:4096;disk:10000;ports:[32000-32100]',
              attributes: 'zone:bad;galley-images:mesos',
            },
            // A stock agent that says nothing.
            { resources: 'cpus:2;mem:4096;disk:10000;ports:[33000-33100]', attributes: 'zone:plain' },
          ],
        });
        dir = await tempDir();
        galley = await startGalley(dir.path, mesosFlags(master.master));
      }, 120_000);
      afterAll(async () => {
        await galley?.stop();
        await master?.stop();
        await dir?.remove();
      });

      it('runs an image in a MESOS container on an agent that declares it runs images', async () => {
        const fake = fakeOf(master);
        await define(galley.url, 'image-good', {
          command: 'echo in a container',
          constraints: ['zone:good'],
        });
        const runId = await execute(galley.url, 'image-good');
        const run = await runReaches(galley.url, runId, 'STOPPED');
        expect(run.exit_code).toBe(0);
        const task = fake.state().tasks.find((t) => t.taskId === `${runId}.1`);
        expect(task?.info['container']).toEqual({
          type: 'MESOS',
          mesos: { image: { type: 'DOCKER', docker: { name: 'ubuntu:24.04' } } },
        });
      });

      it('ends a run whose image the agent cannot launch with the flag that fixes it, without a retry, and sends that agent no more images', async () => {
        const fake = fakeOf(master);
        await define(galley.url, 'image-bad', { command: 'echo never', constraints: ['zone:bad'] });
        const runId = await execute(galley.url, 'image-bad');
        const run = await runReaches(galley.url, runId, 'STOPPED');
        expect(run.attempt_count).toBe(1);
        expect(run.exit_code).toBeNull();
        expect(run.exit_reason).toMatch(
          /^configuration failure: container launch failed on agent .*\(Failed to launch container: Unsupported container image type: 2\): the agent has no Docker image provider: start it with --image_providers=docker .*, or correct its galley-images attribute .*; not retried: it fails the same way until the configuration changes$/,
        );
        expect(fake.state().tasks.filter((t) => t.taskId.startsWith(runId))).toHaveLength(1);
        // /clusters says which agents run images and which failed.
        const note = await eventually('the failure in /clusters', async () => {
          const n = await mesosNote(galley.url);
          return n.includes('failed to launch an image') ? n : undefined;
        });
        expect(note).toContain('images run on 127.0.0.1 (mesos)');
        expect(note).toContain(
          'failed to launch an image: Failed to launch container: Unsupported container image type: 2',
        );
        // The next image run for that agent waits: no agent of zone:bad runs images now.
        const waiting = await execute(galley.url, 'image-bad');
        // Once offers were seen (the role is revived for it), the reason names the images.
        const queued = await eventually('the images as the reason', async () => {
          const r = await getRun(galley.url, waiting);
          return r.queued_reason?.includes('galley.images') ? r : undefined;
        });
        expect(queued.status).toBe('QUEUED');
        expect(queued.queued_reason).toBe('no node matches zone:bad and galley.images!=none together');
        await api(galley.url, 'POST', `/history/${waiting}/stop`);
        // A run without an image still runs there, as a plain command task.
        await define(galley.url, 'no-image-bad', {
          command: 'echo plain',
          image: 'none',
          constraints: ['zone:bad'],
        });
        const plain = await runReaches(galley.url, await execute(galley.url, 'no-image-bad'), 'STOPPED');
        expect(plain.exit_code).toBe(0);
      });

      it('keeps runs with an image off agents that declare nothing, once some agent declares images', async () => {
        await define(galley.url, 'image-anywhere', { command: 'true' });
        for (let i = 0; i < 3; i++) {
          const run = await runReaches(galley.url, await execute(galley.url, 'image-anywhere'), 'STOPPED');
          expect(run.exit_code).toBe(0);
          const zone = fakeOf(master)
            .state()
            .agents.find((a) => a.id === run.instance.instance_id)?.attributes;
          expect(zone).toContain('zone:good');
        }
      });
    });

    describe('--mesos-containerizer docker on stock agents', () => {
      let master: TestMaster;
      let galley: Galley;
      let dir: Awaited<ReturnType<typeof tempDir>>;

      beforeAll(async () => {
        master = await startMaster({ agents: 1 });
        dir = await tempDir();
        galley = await startGalley(dir.path, [
          ...mesosFlags(master.master),
          '--mesos-containerizer',
          'docker',
        ]);
      }, 120_000);
      afterAll(async () => {
        await galley?.stop();
        await master?.stop();
        await dir?.remove();
      });

      it('ends the run with the agent flag that enables the docker containerizer, and tries no other attempt', async () => {
        await define(galley.url, 'docker-image', { command: 'echo never' });
        const runId = await execute(galley.url, 'docker-image');
        const run = await runReaches(galley.url, runId, 'STOPPED');
        expect(run.attempt_count).toBe(1);
        expect(run.exit_reason).toMatch(
          /^configuration failure: container launch failed on agent .*\(Abnormal executor termination: unknown container\): the agent has no Docker containerizer: start it with --containerizers=mesos,docker \(Docker installed\), or run Galley with --mesos-containerizer auto .* or none;/,
        );
        const task = fakeOf(master)
          .state()
          .tasks.find((t) => t.taskId === `${runId}.1`);
        expect(task?.info['container']).toMatchObject({ type: 'DOCKER', docker: { image: 'ubuntu:24.04' } });
        expect(await mesosNote(galley.url)).toContain(
          'no agent runs images now: runs with an image wait; 127.0.0.1 failed to launch an image: Abnormal executor termination: unknown container',
        );
      });
    });
  },
);
