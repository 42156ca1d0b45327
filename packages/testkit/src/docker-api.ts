import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPodman, type PodmanInstall } from './podman.js';
import { type ServiceGate, unavailable } from './services.js';

/**
 * The Docker path without a Docker daemon: Podman serves the Docker Engine API on a socket of its
 * own (`podman system service --time=0 unix://…`), and the docker CLI talks to it through
 * DOCKER_HOST. Its containers are Podman's (the same store, so the test image is there), run with
 * the configuration that works here (see podman.ts).
 */

/** A Docker Engine API served by Podman, and a docker CLI to drive it. */
export interface DockerApi {
  /** The docker CLI's path. */
  cli: string;
  /** `unix:///…/podman.sock`: what DOCKER_HOST must say. */
  dockerHost: string;
  podman: PodmanInstall;
  /** Runs the docker CLI against the service; answers its exit code and output. */
  run(args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops the service (containers it ran are left to the caller). */
  stop(): Promise<void>;
}

const DOCKER_CLIS = ['/usr/local/bin/docker', '/usr/bin/docker'];

/**
 * Starts Podman's Docker-compatible service for the suite `what`: available, or a printed skip
 * (no docker CLI, no Podman) — a failure under GALLEY_REQUIRE_SERVICES=1.
 */
export async function startDockerApi(what: string): Promise<ServiceGate<DockerApi>> {
  const cli = DOCKER_CLIS.find((p) => existsSync(p));
  if (!cli)
    return unavailable(what, `no docker CLI (${DOCKER_CLIS.join(' or ')}; apt-get install docker.io)`);
  const podman = await findPodman(what);
  if (!podman.available) return podman;
  const dir = await mkdtemp(join(tmpdir(), 'galley-docker-api-'));
  const dockerHost = `unix://${join(dir, 'podman.sock')}`;
  const service = spawn(podman.service.cli, ['system', 'service', '--time=0', dockerHost], {
    // conmon writes an `oom` marker into its working directory when a container is OOM-killed
    // through this API: keep it in the service's own directory, not the caller's checkout.
    cwd: dir,
    env: podman.service.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  service.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  const run = (args: string[], timeoutMs = 120_000) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(cli, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) => {
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : -1) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      });
    });
  const stop = async () => {
    if (service.exitCode === null && service.signalCode === null) {
      const gone = new Promise((resolve) => service.once('exit', resolve));
      service.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  // The service answers once its socket listens.
  for (let i = 0; i < 300; i++) {
    if (service.exitCode !== null) break;
    if ((await run(['version', '--format', '{{.Server.Version}}'], 10_000)).code === 0)
      return { available: true, service: { cli, dockerHost, podman: podman.service, run, stop } };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  return unavailable(
    what,
    `podman system service did not answer the docker CLI: ${err.trim().split('\n').at(-1) ?? ''}`,
  );
}
