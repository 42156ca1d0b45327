import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { type ServiceGate, unavailable } from './services.js';

/** A Prometheus server for tests, on 127.0.0.1. */
export interface PrometheusServer {
  /** `http://127.0.0.1:<port>`: its HTTP API (`/api/v1/query`). */
  url: string;
  stop(): Promise<void>;
}

const BINARY = '/usr/bin/prometheus';

/**
 * Starts Debian's Prometheus (package prometheus) on a free port with a temp config that scrapes
 * `targets` (`host:port`, `/metrics`) every `scrapeSeconds` (default 1), its data in a temp
 * directory. GALLEY_TEST_PROMETHEUS (a URL), when set, is used instead (it must scrape the targets).
 */
export async function startPrometheus(
  targets: readonly string[],
  scrapeSeconds = 1,
): Promise<ServiceGate<PrometheusServer>> {
  const external = process.env['GALLEY_TEST_PROMETHEUS'];
  if (external) return { available: true, service: { url: external, stop: async () => {} } };
  if (!existsSync(BINARY))
    return unavailable('Prometheus tests', 'Prometheus is not installed (apt-get install prometheus)');
  const dir = await mkdtemp(join(tmpdir(), 'galley-prometheus-'));
  const port = await freePort();
  const config = [
    'global:',
    `  scrape_interval: ${scrapeSeconds}s`,
    `  evaluation_interval: ${scrapeSeconds}s`,
    'scrape_configs:',
    '  - job_name: test',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child: ChildProcess = spawn(
    BINARY,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, '127.0.0.1', 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    available: true,
    service: {
      url: `http://127.0.0.1:${port}`,
      async stop() {
        child.kill('SIGKILL');
        await exited;
        await rm(dir, { recursive: true, force: true });
      },
    },
  };
}
