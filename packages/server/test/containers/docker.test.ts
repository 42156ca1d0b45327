import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, startDockerApi, TEST_IMAGE, TEST_IMAGE_MARK } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, galley, http, PATIENT, startServer, type ServerProcess } from '../e2e/harness.js';
import { type ContainerRun, runReader, servedPage } from './harness.js';

// The Docker path of the local backend (`--container-runtime docker`) without a Docker daemon:
// the docker CLI against Podman's Docker-compatible API (`podman system service`), DOCKER_HOST
// pointing at its socket. The BUILT server, the real API and CLI; containers checked with docker.

const built = builtGalley('containers e2e (Docker CLI)').available;
const api = built ? await startDockerApi('containers e2e (Docker CLI)') : null;

/** Host ports this suite's server hands out (apart from the other suites'). */
const PORTS = '41040-41049';

describe.runIf(built && api?.available)(
  "the Docker CLI against Podman's Docker-compatible API (--container-runtime docker)",
  PATIENT,
  () => {
    const docker = api?.available ? api.service : null!;
    let dir: string;
    let server: ServerProcess;
    const url = () => server.url;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'galley-docker-'));
      server = await startServer(
        join(dir, 'data'),
        ['--container-runtime', 'docker', '--local-ports', PORTS, '--stop-grace-ms', '1500'],
        { DOCKER_HOST: docker.dockerHost },
      );
    }, 180_000);
    afterAll(async () => {
      await server?.stop();
      for (const id of started)
        for (const name of await containersOf(`${id}.1`)) await docker.run(['rm', '-f', name]);
      await docker?.stop();
      await rm(dir, { recursive: true, force: true });
    }, 180_000);

    const { finished, logs } = runReader(url);
    const started: string[] = [];
    const launch = async (alias: string, body: Record<string, unknown>) => {
      const defined = await http(url(), 'POST', '/task', {
        group_name: 'docker',
        memory: 128,
        cpu: 500,
        alias,
        image: TEST_IMAGE,
        ...body,
      });
      expect(defined.status).toBe(200);
      const res = await http<ContainerRun>(url(), 'PUT', `/task/alias/${alias}/execute`, {
        run_tags: { owner_id: 'tester' },
      });
      expect(res.status).toBe(200);
      started.push(res.body.run_id);
      return res.body.run_id;
    };
    /** The containers the Docker API knows labelled with an attempt's id. */
    const containersOf = async (attemptId: string) =>
      (
        await docker.run(['ps', '-a', '--filter', `label=galley.id=${attemptId}`, '--format', '{{.Names}}'])
      ).stdout
        .split('\n')
        .filter(Boolean);
    const gone = (id: string) =>
      eventually(async () => ((await containersOf(`${id}.1`)).length === 0 ? true : undefined));

    it('runs hello world in the image through the docker CLI; /clusters says Docker holds the limits', async () => {
      const clusters = await http<{
        details: {
          runs_on_host: boolean;
          note: string;
          limits: Record<'memory' | 'cpu', { enforced: boolean }>;
        }[];
      }>(url(), 'GET', '/clusters');
      const local = clusters.body.details[0]!;
      expect(local.runs_on_host).toBe(false);
      expect(local.note).toMatch(/with docker \d/);
      expect(local.limits.memory.enforced).toBe(true);
      const id = await launch('hello-docker', {
        env: [{ name: 'USERNAME', value: 'docker-user' }],
        command: 'echo "hello ${USERNAME}"; cat /etc/galley-test-image; readlink /bin/sh',
      });
      expect(await finished(id)).toMatchObject({ exit_code: 0, runs_on_host: false });
      const log = await logs(id);
      expect(log).toContain('hello docker-user');
      expect(log).toContain(TEST_IMAGE_MARK);
      expect(log).toContain('busybox');
      await gone(id);
      expect((await galley(url(), ['runs', 'show', id])).stdout).toContain('in a container');
    });

    it('publishes a port that answers, and stops the container with its grace: SIGTERM first, SIGKILL when ignored', async () => {
      const web = await launch('web-docker', {
        ports: [8080],
        command: 'echo "port=$PORT0"; exec httpd -f -p 8080 -h /www',
      });
      const stubborn = await launch('stubborn-docker', {
        command: 'trap "" TERM; echo ready; while true; do sleep 0.2; done',
      });
      const port = await eventually(async () => /port=(\d+)/.exec(await logs(web))?.[1]);
      expect(await servedPage(port!)).toContain('hello from the galley test image');
      await eventually(async () => ((await logs(stubborn)).includes('ready') ? true : undefined));
      expect((await galley(url(), ['stop', web])).code).toBe(0);
      expect((await galley(url(), ['stop', stubborn])).code).toBe(0);
      expect((await finished(web)).exit_code).toBe(143); // httpd ended on the SIGTERM passed on
      const killed = await finished(stubborn);
      expect(killed.exit_reason).toMatch(/^stopped by request \((exited with code 137|killed)/);
      expect(killed.run_exceptions).toBeNull();
      await gone(web);
      await gone(stubborn);
    });

    it('kills a job that exceeds its memory limit and says so', async () => {
      const id = await launch('hog-docker', {
        memory: 64,
        command: 'echo start; dd if=/dev/zero of=/dev/null bs=256M count=1',
      });
      const done = await finished(id);
      expect(done.exit_reason).toContain('out of memory (limit 64 MB)');
      expect(done.run_exceptions).toHaveLength(1);
      expect(done.max_memory_used).toBeGreaterThanOrEqual(56);
      expect(await logs(id)).toContain('start');
      await gone(id);
    });
  },
);
