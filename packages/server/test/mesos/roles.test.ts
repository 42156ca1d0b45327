import { describe, expect, it } from 'vitest';
import { api, define, execute, fakeOf, needsFake, runReaches, useMesosServer } from './harness.js';

// A framework with several roles (MULTI_ROLE): each offer is allocated to one role, and a run
// uses offers of its definition's role, or of the first role when it names none.

describe.runIf(needsFake('several roles (the fake master is configured with roles a and b)'))(
  'Mesos backend with several roles (fake master)',
  // Generous: a loaded machine starts processes slowly; a failure still ends the test.
  { timeout: 120_000 },
  () => {
    const server = useMesosServer({ agents: 2 }, { flags: ['--mesos-roles', 'a,b'] });
    const url = server.url;

    it('launches each run with resources of its role, the first role by default (fake master)', async () => {
      const fake = fakeOf(server.master());
      await define(url(), 'in-b', { command: 'true', role: 'b' });
      await define(url(), 'default-role', { command: 'true' });
      const inB = [await execute(url(), 'in-b'), await execute(url(), 'in-b')];
      const inA = [await execute(url(), 'default-role'), await execute(url(), 'default-role')];
      for (const id of [...inB, ...inA]) expect((await runReaches(url(), id, 'STOPPED')).exit_code).toBe(0);
      const roleOf = (runId: string) => fake.state().tasks.find((t) => t.taskId === `${runId}.1`)?.role;
      expect(inB.map(roleOf)).toEqual(['b', 'b']);
      expect(inA.map(roleOf)).toEqual(['a', 'a']);
      expect(fake.state().frameworks[0]?.roles).toEqual(['a', 'b']);
    });

    it('answers 422 for a run of a role the framework does not have (fake master)', async () => {
      await define(url(), 'in-c', { command: 'true', role: 'c' });
      const res = await api(url(), 'PUT', '/task/alias/in-c/execute', {
        run_tags: { owner_id: 'tester' },
      });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'UNKNOWN_ROLE', fields: { 'body.role': expect.any(String) } });
      expect(res.body.message).toBe('role "c" is not one of cluster "mesos"\'s roles (a, b)');
      // The same definition may name a role the cluster has in the execute.
      const runId = await execute(url(), 'in-c', { role: 'b' });
      expect((await runReaches(url(), runId, 'STOPPED')).exit_code).toBe(0);
    });
  },
);
