import { describe, expect, it } from 'vitest';
import {
  api,
  built,
  define,
  eventually,
  execute,
  masterLabel,
  REAL_MASTER,
  type RunJson,
  useMesosServer,
} from './harness.js';

// Many runs at once: each ACCEPT packs several tasks onto one agent, and every run ends once.

const against = REAL_MASTER ? masterLabel : `${masterLabel} with 20 agents`;
const RUNS = 500;

describe.runIf(built)(`Mesos backend at scale on ${against}`, () => {
  const server = useMesosServer({ agents: 20 });
  const url = server.url;

  it(`runs ${RUNS} runs to STOPPED with exit 0, each launched once, on ${against}`, async () => {
    await define(url(), 'many', { command: 'true', cpu: 100, memory: 32 });
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, RUNS - i) }, () => execute(url(), 'many')),
      );
      runIds.push(...batch);
    }
    await eventually(
      `${RUNS} runs to stop`,
      async () => {
        const page = (await api(url(), 'GET', '/history?status=STOPPED&alias=many&limit=0')).body;
        if (page.total === RUNS) return true;
        throw new Error(`${String(page.total)} of ${RUNS} stopped`);
      },
      // Correctness, not speed (that is `npm run bench:mesos`): on a loaded 2-core CI machine
      // sharing its cores with the other test files this has taken most of a minute.
      150_000,
    );
    const all = (await api<{ history: RunJson[] }>(url(), 'GET', `/history?alias=many&limit=${RUNS}`)).body
      .history;
    expect(all).toHaveLength(RUNS);
    expect(all.every((r) => r.status === 'STOPPED' && r.exit_code === 0 && r.attempt_count === 1)).toBe(true);
    expect(new Set(all.map((r) => r.run_id))).toEqual(new Set(runIds));
    const master = server.master();
    if (master.fake) {
      const tasks = master.fake.state().tasks;
      expect(tasks).toHaveLength(RUNS);
      expect(new Set(tasks.map((t) => t.taskId))).toEqual(new Set(runIds.map((id) => `${id}.1`)));
      // Launches were packed: fewer ACCEPTs than tasks.
      expect(master.fake.calls({ type: 'ACCEPT' }).length).toBeLessThan(RUNS);
    }
  }, 180_000);
});
