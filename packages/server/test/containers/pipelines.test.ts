import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, findPodman, TEST_IMAGE } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, galley, PATIENCE_MS, PATIENT, startServer, type ServerProcess } from '../e2e/harness.js';
import { allReady, deleteAllPipelines, type PipelineJson, request, waitFor } from '../pipelines/harness.js';

// A pipeline whose instances run in containers on the local backend, end to end: the BUILT server
// with Podman, the test's own image, real HTTP health checks through published ports; created,
// scaled and rolled, with the containers checked by podman itself.

const built = builtGalley('containers e2e (pipelines)').available;
const podman = await findPodman('containers e2e (pipelines)');

function spec(greeting: string): Record<string, unknown> {
  return {
    id: 'boxed',
    container: { image: TEST_IMAGE, network: 'BRIDGE' },
    environment: { GREETING: greeting },
    processes: {
      web: {
        id: 'web',
        shell: true,
        command:
          'mkdir -p /w && echo "$GREETING $GALLEY_INSTANCE_ID" > /w/index.html && exec httpd -f -p 8080 -h /w',
        resources: { cpu: 0.1, mem: 32 },
        port_mappings: [{ host_port: 0, container_port: 8080, protocol: 'tcp' }],
        kill_grace_period: 1,
        health_check: {
          protocol: 'HTTP',
          path: '/index.html',
          port_index: 0,
          interval_seconds: 0.5,
          timeout_seconds: 2,
          grace_period_seconds: 20,
          max_consecutive_failures: 3,
        },
      },
      // No command: the image's entrypoint (it has none) with these arguments.
      sidecar: {
        id: 'sidecar',
        arguments: ['sh', '-c', 'echo "sidecar of $GALLEY_INSTANCE_ID"; exec sleep 3600'],
        resources: { cpu: 0.05, mem: 16 },
        kill_grace_period: 1,
      },
    },
    instances: 3,
    update_strategy: {
      max_surge: 1,
      max_unavailable: 0,
      min_healthy_seconds: 1,
      progress_deadline_seconds: 90,
    },
  };
}

describe.runIf(built && podman.available)(
  'a pipeline in containers on the local backend (Podman)',
  PATIENT,
  () => {
    const p = podman.available ? podman.service : null!;
    let dir: string;
    let data: string;
    let server: ServerProcess;
    const url = () => server.url;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'galley-boxed-'));
      data = join(dir, 'data');
      server = await startServer(data, [
        '--container-runtime',
        'podman',
        '--local-cpus',
        '4',
        '--local-memory-mb',
        '4096',
      ]);
    }, 180_000);
    afterAll(async () => {
      if (server) {
        await deleteAllPipelines(url());
        await server.stop();
      }
      for (const c of await containersOf('boxed$')) await p.run(['rm', '-f', c.name]);
      await rm(dir, { recursive: true, force: true });
    }, 180_000);

    /** Galley's containers whose task id starts with `prefix`, with their state. */
    async function containersOf(prefix: string): Promise<{ name: string; id: string; status: string }[]> {
      const r = await p.run([
        'ps',
        '-a',
        '--filter',
        'label=galley.id',
        '--format',
        '{{.Names}}\t{{.Labels}}',
      ]);
      const out: { name: string; id: string; status: string }[] = [];
      for (const line of r.stdout.split('\n').filter(Boolean)) {
        const [name, labels] = line.split('\t') as [string, string];
        const id = /galley\.id:(\S+?)[\s\]]/.exec(`${labels} `)?.[1] ?? '';
        if (!id.startsWith(prefix)) continue;
        const state = await p.run(['inspect', '--format', '{{.State.Status}}', name]);
        out.push({ name, id, status: state.stdout.trim() || 'gone' });
      }
      return out;
    }

    /** The page an instance's web process serves through its published host port. */
    async function served(port: number): Promise<string | undefined> {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/index.html`);
        return res.ok ? (await res.text()).trim() : undefined;
      } catch {
        return undefined;
      }
    }

    /** Each instance's containers are running, and nothing else of the pipeline is. */
    async function runningContainersAre(pipeline: PipelineJson): Promise<true | undefined> {
      const expected = pipeline.tasks.flatMap((t) =>
        ['web', 'sidecar'].map((proc) => `${t.processor_id}:${proc}`),
      );
      const running = (await containersOf('boxed$')).filter((c) => c.status === 'running').map((c) => c.id);
      return [...running].sort().join() === [...expected].sort().join() ? true : undefined;
    }

    it('runs 3 instances in their image, each serving through its published port and healthy; scales to 2; rolls to a new version', async () => {
      expect((await request(url(), 'POST', '/pipelines', spec('v1'))).status).toBe(204);
      const v1 = await waitFor(url(), 'boxed', '3 ready instances', allReady(3, 1), 120_000);
      for (const t of v1.tasks) {
        const port = t.processes['web']!.ports[0]!;
        expect(await eventually(() => served(port))).toBe(`v1 ${t.id}`);
        const launch = t.processor_id!.split('$')[1]!;
        // Healthy means the web process answers; the sidecar's first line may land a moment later.
        const stdout = join(data, 'pipelines', 'boxed', launch, 'sidecar', 'stdout');
        const line = `sidecar of ${t.id}`;
        expect(
          await eventually(
            async () => ((await readFile(stdout, 'utf8').catch(() => '')).includes(line) ? line : undefined),
            PATIENCE_MS,
            `the sidecar's first line in ${stdout}`,
          ),
        ).toBe(line);
      }
      await eventually(() => runningContainersAre(v1));

      // Scaled down: the youngest instance goes, its containers with it; the others stay as they are.
      expect((await request(url(), 'PATCH', '/pipelines/boxed', { instances: 2 })).status).toBe(204);
      const two = await waitFor(url(), 'boxed', '2 ready instances', allReady(2, 1), 120_000);
      expect(two.tasks.map((t) => t.id)).toEqual(['boxed.1', 'boxed.2']);
      expect(two.tasks.map((t) => t.processor_id)).toEqual(v1.tasks.slice(0, 2).map((t) => t.processor_id));
      await eventually(() => runningContainersAre(two));

      // Rolled: new instances of version 2 replace the old ones, then the old containers go.
      const file = join(dir, 'v2.json');
      await writeFile(file, JSON.stringify({ environment: { GREETING: 'v2' } }));
      expect((await galley(url(), ['pipeline', 'update', 'boxed', '-f', file])).code).toBe(0);
      const v2 = await waitFor(
        url(),
        'boxed',
        'the update to succeed',
        (pl) => pl.update?.phase === 'succeeded' && allReady(2, 2)(pl),
        180_000,
      );
      for (const t of v2.tasks) {
        expect(v1.tasks.some((old) => old.id === t.id)).toBe(false);
        expect(await eventually(() => served(t.processes['web']!.ports[0]!))).toBe(`v2 ${t.id}`);
      }
      await eventually(() => runningContainersAre(v2));

      // Deleted: no container of it is left.
      await deleteAllPipelines(url());
      await eventually(async () => ((await containersOf('boxed$')).length === 0 ? true : undefined));
    });
  },
);
