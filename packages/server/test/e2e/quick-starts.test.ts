import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { builtGalley, requirePath, startGalley } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, http, PATIENT, type ServerProcess } from './harness.js';

// Issue 11, "done when": the seeds' quick starts run verbatim against the BUILT server started as
// `npm start` starts it (`galley serve` with its defaults; here a temporary data dir and port 0).
// Flotilla's two curl commands are run by curl itself, exactly as its README prints them, only the
// port changed; Faustian's pipeline JSON is its README's with the comments removed.
//
// What holds depends on the local backend, and the test asks the server (`GET /api/v1/clusters`):
// - a container runtime (`runs_on_host: false`; `--container-runtime auto` found Docker or
//   Podman): the seeds' images are used. hello-world runs in `ubuntu:latest`: it prints the
//   greeting, or, where that image cannot be pulled, ends with the runtime's words naming it.
//   Faustian's pipeline (an image, processes without a command) is accepted (204) and its
//   instances are launched in its image `string` (whose pull fails, and says so).
// - host mode (`runs_on_host: true`): hello-world's command runs on this host and prints the
//   greeting; Faustian's pipeline is refused with a 422 naming `processes.parse.command`.
// The host-mode server is started too (GALLEY_CONTAINER_RUNTIME=none), so both answers are tested
// wherever a runtime is installed.

const SEEDS =
  process.env['GALLEY_SEEDS'] ?? fileURLToPath(new URL('../../../../../shared/seeds', import.meta.url));
const FLOTILLA = join(SEEDS, 'flotilla-os.md');
const FAUSTIAN = join(SEEDS, 'faustian.md');
const seeds = requirePath('seed READMEs', FAUSTIAN, 'CI places ../shared/seeds beside the repository');
const built = builtGalley('seed quick starts').available;
const curl = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].find((p) => existsSync(p));
const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** Flotilla's README: hello-world.json and its two curl commands, as printed. */
function flotillaQuickStart(readme: string) {
  const file = /> hello-world\.json\n>\n```\n([\s\S]*?)\n```/.exec(readme)?.[1];
  const define = /^curl -XPOST localhost:3000\/api\/v1\/task --data @examples\/hello-world\.json$/m.exec(
    readme,
  )?.[0];
  const execute =
    /^curl -XPUT localhost:3000\/api\/v1\/task\/alias\/hello-flotilla\/execute -d '[\s\S]*?'$/m.exec(
      readme,
    )?.[0];
  if (!file || !define || !execute) throw new Error("Flotilla's README no longer prints its quick start");
  return { file: `${file}\n`, define, execute };
}

/** Faustian's README: the pipeline definition (the `js` block), its `// …` comments removed. */
function faustianPipeline(readme: string): string {
  const block = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("Faustian's README no longer prints its pipeline definition");
  return block
    .split('\n')
    .map((line) => line.replace(/\s*\/\/.*$/, ''))
    .join('\n');
}

interface Run {
  run_id: string;
  status: string;
  exit_code: number | null;
  exit_reason: string | null;
  run_exceptions: string[] | null;
  runs_on_host: boolean;
  image: string;
}
interface Clusters {
  details: { name: string; runs_on_host: boolean; default: boolean }[];
}
interface Pipeline {
  tasks: { message: string; launched: string | null; processes: Record<string, { message?: string }> }[];
}

const sh = promisify(execFile);

const servers = [
  { name: 'as npm start runs it (container runtime: auto)', env: { GALLEY_CONTAINER_RUNTIME: '' } },
  { name: 'in host mode (GALLEY_CONTAINER_RUNTIME=none)', env: { GALLEY_CONTAINER_RUNTIME: 'none' } },
];

for (const setup of servers) {
  describe.runIf(built && seeds.available && curl)(`the seeds' quick starts, ${setup.name}`, PATIENT, () => {
    let server: ServerProcess;
    let dir: string;
    let onHost: boolean;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'galley-quick-start-'));
      // `galley serve` with its defaults: GALLEY_CONTAINER_RUNTIME empty is unset (auto).
      server = await startGalley({ env: setup.env });
      const clusters = (await http<Clusters>(server.url, 'GET', '/clusters')).body;
      const local = clusters.details.find((c) => c.default);
      expect(local?.name).toBe('local');
      onHost = local!.runs_on_host;
      if (setup.env.GALLEY_CONTAINER_RUNTIME === 'none') expect(onHost).toBe(true);
    }, 180_000);
    afterAll(async () => {
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
    }, 120_000);

    it("runs Flotilla's two curl commands as printed (only the port changed)", async () => {
      const start = flotillaQuickStart(read(FLOTILLA));
      await mkdir(join(dir, 'examples'), { recursive: true });
      await writeFile(join(dir, 'examples', 'hello-world.json'), start.file);
      const port = new URL(server.url).port;
      const asPrinted = (line: string) => line.replace('localhost:3000', `localhost:${port}`);
      const defined = await sh('/bin/sh', ['-c', `${asPrinted(start.define)} -s`], { cwd: dir });
      expect(JSON.parse(defined.stdout)).toMatchObject({ alias: 'hello-flotilla', memory: 512 });
      // The execute is printed over several lines: the shell reads it as the README shows it.
      const executed = await sh('/bin/sh', ['-c', asPrinted(start.execute).replace(/^curl /, 'curl -s ')], {
        cwd: dir,
      });
      const answered = JSON.parse(executed.stdout) as Run;
      expect(answered).toMatchObject({ alias: 'hello-flotilla', image: 'ubuntu:latest', cluster: 'local' });
      expect(answered.runs_on_host).toBe(onHost);

      const run = await eventually(async () => {
        const r = (await http<Run>(server.url, 'GET', `/history/${answered.run_id}`)).body;
        return r.status === 'STOPPED' ? r : undefined;
      });
      const logs = (await http<{ log: string }>(server.url, 'GET', `/${answered.run_id}/logs`)).body;
      if (onHost || run.exit_code === 0) {
        // Host mode, or the image was there or could be pulled: the greeting.
        expect(run.exit_code, JSON.stringify(run)).toBe(0);
        expect(logs.log).toContain('hello yourusername');
      } else {
        // In a container, and ubuntu:latest cannot be pulled here: the runtime's words, naming it.
        expect(`${run.exit_reason} ${(run.run_exceptions ?? []).join(' ')}`).toMatch(
          /image pull failed.*ubuntu/,
        );
      }
    });

    it("takes Faustian's pipeline JSON as its README prints it, comments removed", async () => {
      const body = faustianPipeline(read(FAUSTIAN));
      const res = await fetch(`${server.url}/pipelines`, { method: 'POST', body });
      const text = await res.text();
      if (onHost) {
        // No container runtime: processes without a command cannot run; the 422 names the field.
        expect(res.status, text).toBe(422);
        const error = JSON.parse(text) as { message: string; fields?: Record<string, string> };
        expect(JSON.stringify(error)).toContain('processes.parse.command');
        expect(
          (await fetch(`${server.url}/pipelines/string`, { headers: { accept: 'application/json' } })).status,
        ).toBe(404);
        return;
      }
      // A container runtime: accepted, and its five instances are launched in the image `string`.
      expect(res.status, text).toBe(204);
      const pipeline = await eventually(async () => {
        const p = (await http<Pipeline>(server.url, 'GET', '/pipelines/string')).body;
        return p.tasks.length === 5 && p.tasks.some((t) => t.launched) ? p : undefined;
      });
      expect(pipeline.tasks.length).toBe(5);
      const deleted = await fetch(`${server.url}/pipelines/string`, { method: 'DELETE' });
      expect(deleted.status).toBe(204);
    });
  });
}
