import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  define,
  execute,
  fakeOf,
  mesosFlags,
  needsFake,
  runReaches,
  startGalley,
  startMaster,
  tempDir,
  type Galley,
  type TestMaster,
} from '../mesos/harness.js';

// A Galley secret into a Mesos task, against the fake master (it shows the TaskInfo it was sent):
// the task carries it as an `Environment.Variable` of type SECRET holding a `Secret` VALUE, and
// the agent's task gets the value (the command exits 0 only when its SHA-256 matches).

const VALUE = `mesos-secret-${process.pid}-Jt7`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe.runIf(needsFake('Mesos SECRET env variables'))(
  'secrets into Mesos tasks with the fake master',
  () => {
    let master: TestMaster;
    let galley: Galley;
    let dir: Awaited<ReturnType<typeof tempDir>>;

    beforeAll(async () => {
      master = await startMaster({
        agents: [{ resources: 'cpus:2;mem:2048;disk:1000;ports:[31000-31010]' }],
      });
      dir = await tempDir();
      galley = await startGalley(dir.path, mesosFlags(master.master));
    }, 120_000);
    afterAll(async () => {
      await galley?.stop();
      await master?.stop();
      await dir?.remove();
    });

    it('sends a resolved secret as a SECRET env variable (Secret VALUE) and the task sees its value', async () => {
      expect((await api(galley.url, 'PUT', '/secrets/api-token', { value: VALUE })).status).toBe(201);
      await define(galley.url, 'mesos-secret', {
        command: `test "$(printf %s "$TOKEN" | sha256sum | cut -c1-64)" = "${sha256(VALUE)}"`,
        env: [{ name: 'TOKEN', value: 'secret:api-token' }],
      });
      const runId = await execute(galley.url, 'mesos-secret');
      const run = await runReaches(galley.url, runId, 'STOPPED');
      expect(run).toMatchObject({ exit_code: 0, attempt_count: 1 });
      const task = fakeOf(master)
        .state()
        .tasks.find((t) => t.taskId === `${runId}.1`);
      // Under the shared galley-executor (the default) the task's CommandInfo is in its `data`.
      type Command = { environment: { variables: unknown[] } };
      const data = task?.info['data'];
      const command = (
        typeof data === 'string'
          ? JSON.parse(Buffer.from(data, 'base64').toString('utf8'))
          : task?.info['command']
      ) as Command;
      const variables = command.environment.variables;
      expect(variables).toContainEqual({
        name: 'TOKEN',
        type: 'SECRET',
        secret: { type: 'VALUE', value: { data: Buffer.from(VALUE).toString('base64') } },
      });
      expect(JSON.stringify(variables)).not.toContain(VALUE);
    }, 120_000);
  },
);
