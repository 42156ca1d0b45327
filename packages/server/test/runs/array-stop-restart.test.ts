import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, galleyRequest, type GalleyProcess, startGalley } from '@galley/testkit';
import { describe, expect, it } from 'vitest';
import { eventually } from '../waits.js';

// A stopped array parent across a crash: the BUILT server, SIGKILLed right after it answered the
// parent's stop (before it could kill the children it had running), is started again on the same
// data directory. Its children must not run on: each ends STOPPED, once, with the array's reason.

const built = builtGalley('array stop across a server SIGKILL');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A request under /api/v1; throws with the answer when it is not 2xx. */
async function api(url: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Json> {
  const res = await galleyRequest<Json>(url, method, `/api/v1${path}`, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

describe.runIf(built.available)(
  'a stopped array across a server SIGKILL (built server, real processes)',
  () => {
    it(
      'stops the children an array parent was stopped with when the server died before killing them: none runs on, each ends once',
      { timeout: 180_000 },
      async () => {
        const dataDir = await mkdtemp(join(tmpdir(), 'galley-array-stop-'));
        const args = ['--local-cpus', '4', '--local-memory-mb', '4096', '--stop-grace-ms', '300'];
        let galley: GalleyProcess = await startGalley({ dataDir, args });
        let childIds: string[] = [];
        try {
          await api(galley.url, 'POST', '/task', {
            alias: 'long',
            memory: 64,
            cpu: 1000,
            command: 'sleep 300',
          });
          const parent = await api(galley.url, 'PUT', '/task/alias/long/execute', {
            run_tags: { owner_id: 'alice' },
            array_size: 3,
          });
          const parentId = parent['run_id'] as string;
          const children = async (url: string) =>
            (await api(url, 'GET', `/history/${parentId}/children`))['history'] as Json[];
          childIds = (
            await eventually('the 3 children running', async () => {
              const list = await children(galley.url);
              return list.length === 3 && list.every((c) => c['status'] === 'RUNNING') ? list : undefined;
            })
          ).map((c) => c['run_id'] as string);

          expect((await api(galley.url, 'POST', `/history/${parentId}/stop`))['status']).toBe('STOPPED');
          await galley.kill();
          galley = await startGalley({ dataDir, args });

          const ended = await eventually('every child stopped after the restart', async () => {
            const list = await children(galley.url);
            return list.every((c) => c['status'] === 'STOPPED') ? list : undefined;
          });
          for (const c of ended) {
            expect(c['exit_reason']).toMatch(new RegExp(`^array ${parentId} was stopped`));
            const events = (await api(galley.url, 'GET', `/${c['run_id']}/events`))['events'] as Json[];
            expect(events.filter((e) => e['status'] === 'STOPPED')).toHaveLength(1);
          }
          const stopped = await api(galley.url, 'GET', `/history/${parentId}`);
          expect(stopped['status']).toBe('STOPPED');
        } finally {
          // Should a child still run (the test failed), it must not outlive the test.
          for (const id of childIds)
            await api(galley.url, 'POST', `/history/${id}/stop`).catch(() => undefined);
          await galley.stop();
          await rm(dataDir, { recursive: true, force: true });
        }
      },
    );
  },
);
