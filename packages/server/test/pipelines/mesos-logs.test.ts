import { describe, expect, it, vi } from 'vitest';
import { needsFake } from '../mesos/harness.js';
import { PATIENCE_MS, request, waitFor } from './harness.js';
import { useMesosPipelineServer } from './mesos-server.js';

// Pipeline process logs on the Mesos backend (issue 11 item 3): the BUILT server against the fake
// master running each task of a launch's task group as a real process, its output in the task's
// directory of the executor's sandbox (`tasks/<task id>/stdout`), read through the agent's files
// API; pages, one stream, and a follower that ends when the instance is stopped.

describe.runIf(
  needsFake('pipeline logs on Mesos (the fake master runs the processes and serves their sandboxes)'),
)('pipeline process logs on the Mesos backend (fake master, real processes)', { timeout: 120_000 }, () => {
  const server = useMesosPipelineServer([{ resources: 'cpus:2;mem:4096;disk:10000;ports:[31000-31499]' }]);
  const url = server.url;
  const logs = (instance: string, process: string) =>
    `/api/v1/pipelines/chatty/instances/${instance}/processes/${process}/logs`;

  it("reads each process's stdout and stderr from its task's sandbox, and follows it until the instance stops", async () => {
    const command = (name: string) =>
      `echo "${name} of $GALLEY_INSTANCE_ID says ünïcödé"; echo "${name} complains" >&2; exec sleep 1000`;
    const spec = {
      id: 'chatty',
      processes: {
        one: {
          id: 'one',
          shell: true,
          command: command('one'),
          resources: { cpu: 0.1, mem: 16 },
          kill_grace_period: 1,
        },
        two: {
          id: 'two',
          shell: true,
          command: command('two'),
          resources: { cpu: 0.1, mem: 16 },
          kill_grace_period: 1,
        },
      },
      instances: 1,
    };
    expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
    await waitFor(url(), 'chatty', 'the instance running', (p) => p.tasks[0]?.ok === true);

    const page = await vi.waitFor(
      async () => {
        const res = await request<{ log: string; last_seen: string }>(url(), 'GET', logs('chatty.1', 'two'));
        if (res.status !== 200 || !res.body.log.includes('complains'))
          throw new Error(`not yet: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body;
      },
      { timeout: PATIENCE_MS, interval: 100 },
    );
    expect(page.log).toBe('two of chatty.1 says ünïcödé\ntwo complains\n');
    const after = await request<{ log: string }>(
      url(),
      'GET',
      `${logs('chatty.1', 'two')}?last_seen=${page.last_seen}`,
    );
    expect(after.body.log).toBe('');
    const stderr = await request<{ log: string }>(url(), 'GET', `${logs('chatty.1', 'one')}?stream=stderr`);
    expect(stderr.body.log).toBe('one complains\n');

    const res = await fetch(`${url()}${logs('chatty.1', 'one')}?follow=true&stream=stdout`);
    expect(res.status).toBe(200);
    let text = '';
    const reader = (async () => {
      const decoder = new TextDecoder();
      const body = res.body!.getReader();
      for (let r = await body.read(); !r.done; r = await body.read())
        text += decoder.decode(r.value, { stream: true });
    })();
    await vi.waitFor(
      () => {
        if (!text.includes('says')) throw new Error(`nothing yet: ${text}`);
      },
      { timeout: PATIENCE_MS, interval: 50 },
    );
    expect((await request(url(), 'PATCH', '/pipelines/chatty', { instances: 0 })).status).toBe(204);
    await reader;
    expect(text).toBe('one of chatty.1 says ünïcödé\n');
  });
});
