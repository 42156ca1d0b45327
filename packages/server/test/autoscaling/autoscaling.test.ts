import { createServer, type Server } from 'node:http';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, type PrometheusServer, requirePath, startPrometheus } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, galley, PATIENT, startServer, type ServerProcess } from '../e2e/harness.js';
import { deleteAllPipelines, getPipeline, request } from '../pipelines/harness.js';
import { FakeGocd, type FakeEvent } from './fake-gocd.js';
import { WORKER_CPU, WORKER_MEM_MB, WORKER_SOURCE } from './worker.js';

// Pipeline autoscaling end to end: the BUILT server as a process, workers as real host processes,
// a fake GoCD server speaking scheduled.xml and the agents API, and Debian's Prometheus scraping
// an exporter this test serves. Polling every second; every wait is on a condition.

const built = builtGalley('autoscaling e2e').available;
const hasPrometheus =
  process.env['GALLEY_TEST_PROMETHEUS'] !== undefined ||
  requirePath('Prometheus autoscaling test', '/usr/bin/prometheus', 'apt-get install prometheus').available;
const KEY = 'auto-register-key-for-tests';
const PASSWORD = 'gocd-password-never-logged';

interface Status {
  current: number;
  running: number;
  desired: number | null;
  metric: number | null;
  decisions: {
    metric: number | null;
    error: string | null;
    current: number;
    desired: number;
    reason: string;
  }[];
}

describe.runIf(built)('pipeline autoscaling (built server, real worker processes)', PATIENT, () => {
  let dir: string;
  let server: ServerProcess;
  let gocd: FakeGocd;
  let worker: string;
  const url = () => server.url;
  const status = async (id: string): Promise<Status> =>
    (await request<Status>(url(), 'GET', `/api/v1/pipelines/${id}/autoscaling`)).body;
  const running = async (id: string) => (await getPipeline(url(), id)).tasks.filter((t) => !t.killing);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-autoscaling-'));
    worker = join(dir, 'worker.mjs');
    await writeFile(worker, WORKER_SOURCE);
    // Jobs may run as another user (run-as): the worker script must be readable by it.
    await chmod(dir, 0o755);
    gocd = new FakeGocd('galley', PASSWORD, KEY);
    await gocd.start();
    server = await startServer(join(dir, 'data'), ['--local-cpus', '8', '--local-memory-mb', '8192'], {
      FAKE_GOCD_PASSWORD: PASSWORD,
    });
  }, 120_000);
  afterAll(async () => {
    if (server) {
      await deleteAllPipelines(url());
      expect(server.output()).not.toContain(PASSWORD);
      await server.stop();
    }
    await gocd?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('refuses a bad autoscaling naming the field', async () => {
    const base = {
      id: 'bad',
      processes: { w: { command: 'true', resources: { cpu: 0.1, mem: 8 } } },
    };
    const source = { type: 'galley_queue', group: 'g' };
    const inverted = await request<{ fields: Record<string, string> }>(url(), 'POST', '/api/v1/pipelines', {
      ...base,
      autoscaling: { min: 5, max: 2, target_per_instance: 1, source },
    });
    expect(inverted.status).toBe(422);
    expect(Object.keys(inverted.body.fields)).toEqual(['body.autoscaling.min']);
    const tooFast = await request<{ fields: Record<string, string> }>(url(), 'POST', '/api/v1/pipelines', {
      ...base,
      autoscaling: { max: 2, target_per_instance: 1, polling_interval_seconds: 0.1, source },
    });
    expect(tooFast.status).toBe(400);
    expect(Object.keys(tooFast.body.fields)).toContain('body.autoscaling.polling_interval_seconds');
    const missing = await request(url(), 'GET', '/api/v1/pipelines/nothing-here/autoscaling');
    expect(missing.status).toBe(404);
  });

  it('a GoCD-shaped backlog (fake GoCD server) of 12 jobs grows a pipeline from 0 to 4 agents (target 3) and back to 0, draining each agent through GoCD; no busy agent is killed', async () => {
    const created = await request(url(), 'POST', '/api/v1/pipelines', {
      id: 'agents',
      environment: { FAKE_GOCD: gocd.url, GO_EA_AUTO_REGISTER_KEY: KEY },
      processes: {
        agent: {
          command: 'node',
          arguments: [worker],
          resources: { cpu: WORKER_CPU, mem: WORKER_MEM_MB },
          kill_grace_period: 5,
          drain: { gocd: {} },
        },
      },
      autoscaling: {
        min: 0,
        max: 6,
        target_per_instance: 3,
        polling_interval_seconds: 1,
        stabilization: { up_seconds: 0, down_seconds: 2 },
        source: {
          type: 'gocd',
          url: gocd.url,
          resources: ['linux', 'docker'],
          environment: 'prod',
          auth: { username: 'galley', password_env: 'FAKE_GOCD_PASSWORD' },
        },
      },
    });
    expect(created.status).toBe(204);
    await eventually(async () => ((await status('agents')).decisions[0]?.metric === 0 ? true : undefined));
    expect((await getPipeline(url(), 'agents')).tasks).toHaveLength(0);

    // 12 jobs an agent with resources linux+docker in prod can take; 5 it cannot (filtered out).
    gocd.jobs = [
      ...Array.from({ length: 12 }, (_, k) => ({
        name: `build-${k}`,
        resources: k % 2 ? ['linux'] : ['linux', 'docker'],
        environment: 'prod',
      })),
      { name: 'win-1', resources: ['windows'], environment: 'prod' },
      { name: 'win-2', resources: ['windows'], environment: 'prod' },
      { name: 'stage-1', resources: ['linux'], environment: 'staging' },
      { name: 'stage-2', resources: ['linux'], environment: 'staging' },
      { name: 'nowhere', resources: ['linux'] },
    ];
    await eventually(async () => (gocd.agents.size === 4 ? true : undefined), 90_000, '4 agents registered');
    const agents = [...gocd.agents.values()];
    expect(agents.map((a) => a.hostname).sort()).toEqual(['agents.1', 'agents.2', 'agents.3', 'agents.4']);
    // Registered with the configured key, so enabled at once; Galley told each what it is.
    for (const a of agents)
      expect(a).toMatchObject({ key: KEY, agent_config_state: 'Enabled', elastic_agent_id: a.hostname });
    const grown = await status('agents');
    expect(grown).toMatchObject({ current: 4, metric: 12 });
    expect(grown.decisions.find((d) => d.desired === 4 && d.current === 0)?.reason).toContain(
      'metric 12 / target 3 per instance → 4',
    );
    const cli = await galley(url(), ['pipeline', 'autoscaling', 'agents', '-n', '3']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^source gocd {2}instances 4 \(running 4\) {2}desired 4 {2}metric 12\n/);
    // The decision that grew it ("…; 0 → 4") or, once later polls pushed it out of the last 3,
    // those that kept it ("…; stays at 4"): how many polls came since depends on the machine.
    expect(cli.stdout).toContain('metric 12 / target 3 per instance → 4; ');

    // GoCD in trouble: the size stays, and the decision says why.
    gocd.failScheduled = 503;
    const failed = await eventually(async () =>
      (await status('agents')).decisions.find((d) => d.error !== null),
    );
    expect(failed).toMatchObject({ metric: null, current: 4, desired: 4 });
    expect(failed.error).toMatch(/scheduled\.xml: HTTP 503/);
    expect(failed.reason).toContain('size left at 4');
    gocd.failScheduled = null;

    // The agents take the jobs: none waits, all 4 build — the backlog in flight is 4, so 2 agents
    // are wanted: Galley disables 2 (GoCD's drain; the youngest, all being busy) and waits: none
    // is stopped while it builds.
    for (const a of agents) gocd.setBuildState(a.hostname, 'Building');
    gocd.jobs = [];
    await eventually(
      async () => (agents.filter((a) => a.agent_config_state === 'Disabled').length === 2 ? true : undefined),
      60_000,
      '2 agents disabled',
    );
    const marker = (await status('agents')).decisions.length;
    const waiting = await eventually(async () => {
      const s = await status('agents');
      return s.decisions.length > marker + 1 &&
        s.decisions[0]!.reason.includes('4 busy instances kept until idle')
        ? s
        : undefined;
    });
    expect(waiting).toMatchObject({ metric: 4, current: 4 });
    expect(
      agents
        .filter((a) => a.agent_config_state === 'Disabled')
        .map((a) => a.hostname)
        .sort(),
    ).toEqual(['agents.3', 'agents.4']);
    expect((await running('agents')).length).toBe(4);

    // Two finish their jobs: exactly those two are stopped, then deleted from GoCD.
    gocd.setBuildState('agents.2', 'Idle');
    gocd.setBuildState('agents.3', 'Idle');
    await eventually(
      async () => (gocd.events.filter((e) => e.type === 'delete').length === 2 ? true : undefined),
      60_000,
      '2 agents deleted',
    );
    expect(
      gocd.events
        .filter((e) => e.type === 'delete')
        .map((e) => e.agent)
        .sort(),
    ).toEqual(['agents.2', 'agents.3']);
    expect((await running('agents')).map((t) => t.id).sort()).toEqual(['agents.1', 'agents.4']);

    // The last two finish: the pipeline is back at 0, every agent deleted.
    gocd.setBuildState('agents.1', 'Idle');
    gocd.setBuildState('agents.4', 'Idle');
    await eventually(
      async () =>
        gocd.agents.size === 0 && (await getPipeline(url(), 'agents')).tasks.length === 0 ? true : undefined,
      60_000,
      'back to 0',
    );
    expect(await status('agents')).toMatchObject({ current: 0, running: 0 });

    // Per agent: disabled and idle (in either order: an idle agent is disabled first), then its
    // worker exited — while GoCD had it disabled and idle — then it was deleted.
    for (const a of agents) {
      const mine = gocd.events
        .filter((e: FakeEvent) => e.agent === a.hostname && e.type !== 'register' && e.type !== 'building')
        .map((e) => e.type);
      expect(mine.slice(0, 2).sort()).toEqual(['disable', 'idle']);
      expect(mine.slice(2)).toEqual(['exit', 'delete']);
      expect(gocd.events.find((e) => e.agent === a.hostname && e.type === 'exit')).toMatchObject({
        build_state: 'Idle',
        config_state: 'Disabled',
      });
    }
  });

  it('the signal contract (GALLEY_DRAIN=signal:SIGUSR1): a scale-in signals the worker, which finishes its job and exits 0 within its grace', async () => {
    let backlog = 0;
    const reports: { id: string; busy: boolean; signal?: string }[] = [];
    const metrics = createServer((req, res) => {
      if (req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += String(c)));
        req.on('end', () => {
          reports.push(JSON.parse(body) as { id: string; busy: boolean; signal?: string });
          res.end('ok');
        });
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ queue: { jobs: backlog } }));
    });
    await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
    const address = metrics.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const created = await request(url(), 'POST', '/api/v1/pipelines', {
        id: 'sig',
        environment: { REPORT_URL: `${base}/exit` },
        processes: {
          w: {
            command: 'node',
            arguments: [worker],
            resources: { cpu: WORKER_CPU, mem: WORKER_MEM_MB },
            port_mappings: [{ host_port: 0 }],
            kill_grace_period: 120,
            drain: { signal: 'SIGUSR1' },
          },
        },
        autoscaling: {
          max: 3,
          target_per_instance: 1,
          polling_interval_seconds: 1,
          stabilization: { down_seconds: 1 },
          source: { type: 'http', url: `${base}/backlog`, json_path: 'queue.jobs' },
        },
      });
      expect(created.status).toBe(204);
      backlog = 2;
      const two = await eventually(
        async () => {
          const tasks = await running('sig');
          return tasks.length === 2 && tasks.every((t) => t.processes['w']?.status === 'TASK_RUNNING')
            ? tasks
            : undefined;
        },
        90_000,
        '2 workers',
      );
      const port = (id: string) => two.find((t) => t.id === id)!.processes['w']!.ports[0]!;
      const said = await eventually(() =>
        fetch(`http://127.0.0.1:${port('sig.2')}/busy`, { method: 'POST' }).then(
          (r) => r.text(),
          () => undefined,
        ),
      );
      expect(said).toBe('signal:SIGUSR1');
      // One fewer wanted: the youngest is stopped with SIGUSR1 and finishes its job first.
      backlog = 1;
      await eventually(async () =>
        (await getPipeline(url(), 'sig')).tasks.find((t) => t.id === 'sig.2')?.killing ? true : undefined,
      );
      const stillWorking = await fetch(`http://127.0.0.1:${port('sig.2')}/drain`).then((r) => r.json());
      expect(stillWorking).toEqual({ busy: true });
      expect(reports).toEqual([]);
      await fetch(`http://127.0.0.1:${port('sig.2')}/idle`, { method: 'POST' });
      await eventually(async () => ((await getPipeline(url(), 'sig')).tasks.length === 1 ? true : undefined));
      expect(reports).toEqual([{ id: 'sig.2', busy: false, signal: 'SIGUSR1' }]);
      backlog = 0;
      await eventually(async () => ((await getPipeline(url(), 'sig')).tasks.length === 0 ? true : undefined));
      expect(reports.map((r) => r.id)).toEqual(['sig.2', 'sig.1']);
    } finally {
      metrics.closeAllConnections();
      await new Promise<void>((resolve) => metrics.close(() => resolve()));
    }
  });

  describe.runIf(hasPrometheus)('with Prometheus', () => {
    let prometheus: PrometheusServer | null = null;
    let exporter: Server;
    let backlog = 0;
    const exits: { id: string; busy: boolean }[] = [];
    let exporterUrl = '';

    beforeAll(async () => {
      exporter = createServer((req, res) => {
        if (req.method === 'POST') {
          let body = '';
          req.on('data', (c) => (body += String(c)));
          req.on('end', () => {
            exits.push(JSON.parse(body) as { id: string; busy: boolean });
            res.end('ok');
          });
          return;
        }
        res.setHeader('content-type', 'text/plain; version=0.0.4');
        res.end(`# TYPE galley_test_backlog gauge\ngalley_test_backlog{queue="a"} ${backlog}\n`);
      });
      await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
      const address = exporter.address();
      exporterUrl = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const gate = await startPrometheus([exporterUrl]);
      if (!gate.available) throw new Error(gate.reason);
      prometheus = gate.service;
    }, 60_000);
    afterAll(async () => {
      await prometheus?.stop();
      exporter?.closeAllConnections();
      await new Promise<void>((resolve) => (exporter ? exporter.close(() => resolve()) : resolve()));
    });

    it('a PromQL metric drives a second pipeline; scale-in asks each worker (GALLEY_DRAIN http) and keeps the busy one', async () => {
      if (!prometheus) throw new Error('Prometheus did not start');
      const created = await request(url(), 'POST', '/api/v1/pipelines', {
        id: 'promw',
        environment: { REPORT_URL: `http://${exporterUrl}/exit` },
        processes: {
          w: {
            command: 'node',
            arguments: [worker],
            resources: { cpu: WORKER_CPU, mem: WORKER_MEM_MB },
            port_mappings: [{ host_port: 0 }],
            kill_grace_period: 5,
            drain: { http: { port: 'PORT0', path: '/drain' } },
          },
        },
        autoscaling: {
          max: 5,
          target_per_instance: 2,
          polling_interval_seconds: 1,
          stabilization: { down_seconds: 1 },
          source: { type: 'prometheus', url: prometheus.url, query: 'sum(galley_test_backlog)' },
        },
      });
      expect(created.status).toBe(204);
      backlog = 6;
      const three = await eventually(
        async () => {
          const tasks = await running('promw');
          return tasks.length === 3 && tasks.every((t) => t.processes['w']?.status === 'TASK_RUNNING')
            ? tasks
            : undefined;
        },
        90_000,
        '3 workers',
      );
      expect((await status('promw')).metric).toBe(6);
      // The worker knows the contract; one of them runs a job.
      const port = (id: string) => three.find((t) => t.id === id)!.processes['w']!.ports[0]!;
      const said = await eventually(() =>
        fetch(`http://127.0.0.1:${port('promw.2')}/busy`, { method: 'POST' }).then(
          (r) => r.text(),
          () => undefined,
        ),
      );
      expect(said).toBe('http:PORT0:/drain');

      backlog = 0;
      const left = await eventually(
        async () => {
          const tasks = await running('promw');
          return tasks.length === 1 ? tasks : undefined;
        },
        60_000,
        'the idle workers stopped',
      );
      expect(left.map((t) => t.id)).toEqual(['promw.2']);
      // The first scale-in step stopped the two idle ones; then the busy one is kept, poll after poll.
      const decisions = (await status('promw')).decisions;
      expect(decisions.find((d) => d.current === 3 && d.desired === 1)?.reason).toMatch(
        /stopping 2 idle \(promw\.[13], promw\.[13]\); 1 busy instance kept until idle/,
      );
      const waiting = await eventually(async () =>
        (await status('promw')).decisions.find(
          (d) => d.current === 1 && d.reason.includes('1 busy instance kept until idle'),
        ),
      );
      expect(waiting.desired).toBe(1);

      await fetch(`http://127.0.0.1:${port('promw.2')}/idle`, { method: 'POST' });
      await eventually(
        async () => ((await getPipeline(url(), 'promw')).tasks.length === 0 ? true : undefined),
        60_000,
        '0 workers',
      );
      await eventually(async () => (exits.length === 3 ? true : undefined));
      expect(exits.filter((e) => e.busy)).toEqual([]);
    });
  });
});
