import { eventually, http } from '../e2e/harness.js';

// What the container suites share: a run as the API shows it, waiting for its end, its log, and
// the page a published port serves.

/** A run as `GET /history/:id` shows it (the fields these suites read). */
export interface ContainerRun {
  run_id: string;
  status: string;
  image: string;
  exit_code: number | null;
  exit_reason: string | null;
  attempt_count: number;
  run_exceptions: string[] | null;
  max_memory_used: number | null;
  max_cpu_used: number | null;
  runs_on_host: boolean;
  memory: number;
}

/** Reading runs of the server at `url()`: now, once STOPPED, and their log. */
export function runReader(url: () => string) {
  const run = async (id: string) => (await http<ContainerRun>(url(), 'GET', `/history/${id}`)).body;
  const finished = (id: string) =>
    eventually(
      async () => ((await run(id)).status === 'STOPPED' ? run(id) : undefined),
      120_000,
      `run ${id} to stop`,
    );
  const logs = async (id: string) => (await http<{ log: string }>(url(), 'GET', `/${id}/logs`)).body.log;
  return { run, finished, logs };
}

/** The test image's page through a published host port, once it answers. */
export function servedPage(port: number | string): Promise<string> {
  return eventually(async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/index.html`);
      return res.ok ? res.text() : undefined;
    } catch {
      return undefined;
    }
  });
}
