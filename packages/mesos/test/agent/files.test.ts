/**
 * The agent files API client (`/files/read`, transcript 15) over real HTTP on 127.0.0.1: against
 * a fake agent of `@galley/mesos/testing` for what it reads, and against a purpose-built server
 * for the headers it sends and the answers a fake agent does not give (401, 500, no JSON, silence).
 */
import { Buffer } from 'node:buffer';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentFilesError,
  createAgentFilesClient,
  createScheduler,
  executorSandboxPath,
  type AgentFilesClient,
  type TaskState,
} from '@galley/mesos';
import { startFakeMesos } from '@galley/mesos/testing';
import { startTestServer } from '../support/http-server.js';
import { commandTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** What the finished task wrote, as the simulated shell plays its echoes. */
const STDOUT = 'hello\nwörld ✓ ünïcödé\n';
const STDERR = 'oops\n';

/**
 * Runs one command task to TASK_FINISHED on a fake agent (simulate mode) and returns a client for
 * that agent and the virtual paths of the task's sandbox.
 */
async function finishedTaskOnFakeAgent(): Promise<{ files: AgentFilesClient; sandbox: string }> {
  const fake = await startFakeMesos({ agents: 1, allocationIntervalMs: 50 });
  cleanups.push(() => fake.stop());
  let launched = false;
  let state: TaskState | undefined;
  let agentId = '';
  const scheduler = createScheduler({
    master: fake.leaderUrl.replace(/^http:\/\//, ''),
    framework: { user: 'root', name: 'files-test', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] },
    reconciliation: { tasks: () => [], periodMs: 0 },
    handlers: {
      OFFERS: async (event, { scheduler: s }) => {
        for (const offer of event.offers.offers ?? []) {
          if (launched) {
            await s.decline([offer.id], { refuse_seconds: 60 });
            continue;
          }
          launched = true;
          agentId = offer.agent_id.value;
          const command = `echo hello; echo "wörld ✓ ünïcödé"; echo oops >&2`;
          await s.accept(
            [offer.id],
            [{ type: 'LAUNCH', launch: { task_infos: [commandTask(offer, 'files-task', command)] } }],
          );
        }
      },
      UPDATE: async (event) => {
        state = event.update.status.state;
      },
    },
  });
  cleanups.push(() => scheduler.stop());
  scheduler.start();
  await waitFor(
    () => `TASK_FINISHED (last state ${state})`,
    () => state === 'TASK_FINISHED',
  );
  const files = createAgentFilesClient({ agent: fake.agentUrl(agentId) });
  cleanups.push(() => files.close());
  // A command task's executor id is its task id.
  return { files, sandbox: executorSandboxPath(scheduler.id as string, 'files-task') };
}

describe('AgentFilesClient against a fake agent (real HTTP on 127.0.0.1)', () => {
  it('reads a finished task’s stdout and stderr from a fake agent: whole, a range, past the end, and the size', async () => {
    const { files, sandbox } = await finishedTaskOnFakeAgent();
    const stdoutBytes = Buffer.byteLength(STDOUT);
    expect(await files.read(`${sandbox}/stdout`, 0, 1000)).toEqual({ data: STDOUT, offset: 0 });
    // stderr also holds the command executor's own glog lines, as on a real agent.
    const stderr = await files.read(`${sandbox}/stderr`, 0, 10_000);
    expect(stderr.offset).toBe(0);
    expect(stderr.data.split('\n').filter((line) => !/^I\d{4} /.test(line))).toEqual(STDERR.split('\n'));
    expect(await files.read(`${sandbox}/stdout`, 2, 3)).toEqual({ data: 'llo', offset: 2 });
    expect(await files.read(`${sandbox}/stdout`, stdoutBytes, 100)).toEqual({
      data: '',
      offset: stdoutBytes,
    });
    expect(await files.read(`${sandbox}/stdout`, stdoutBytes + 1000, 100)).toEqual({
      data: '',
      offset: stdoutBytes + 1000,
    });
    expect(await files.size(`${sandbox}/stdout`)).toBe(stdoutBytes);
  });

  it('reads a fake agent’s file in pages that never split a UTF-8 character, and knows the end', async () => {
    const { files, sandbox } = await finishedTaskOnFakeAgent();
    let shortened = 0;
    for (const pageBytes of [4, 5, 7, 64]) {
      const pages: Buffer[] = [];
      let offset = 0;
      for (let reads = 0; ; reads++) {
        expect(reads).toBeLessThan(100);
        const page = await files.readPage(`${sandbox}/stdout`, offset, pageBytes);
        expect(page.data.length).toBeGreaterThan(0);
        expect(page.nextOffset).toBe(offset + page.data.length);
        expect(page.data.toString('utf8')).not.toContain('\uFFFD');
        pages.push(page.data);
        offset = page.nextOffset;
        if (page.end) break;
        if (page.data.length < pageBytes) shortened++;
      }
      expect(Buffer.concat(pages).toString('utf8')).toBe(STDOUT);
      expect(offset).toBe(Buffer.byteLength(STDOUT));
    }
    // Some reads did stop inside a character and left it for the next page.
    expect(shortened).toBeGreaterThan(0);
    // 'ö' is two bytes: one byte of it makes an empty page that is not the end.
    const atUmlaut = Buffer.byteLength('hello\nw');
    expect(await files.readPage(`${sandbox}/stdout`, atUmlaut, 1)).toEqual({
      data: Buffer.alloc(0),
      nextOffset: atUmlaut,
      end: false,
    });
  });

  it('answers a missing file with MESOS_AGENT_FILE_NOT_FOUND and a directory with MESOS_AGENT_BAD_REQUEST on a fake agent', async () => {
    const { files, sandbox } = await finishedTaskOnFakeAgent();
    const missing = await files.read(`${sandbox}/nope`, 0, 10).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AgentFilesError);
    expect(missing).toMatchObject({ code: 'MESOS_AGENT_FILE_NOT_FOUND', status: 404, temporary: false });
    const directory = await files.read(sandbox, 0, 10).catch((e: unknown) => e);
    expect(directory).toMatchObject({ code: 'MESOS_AGENT_BAD_REQUEST', status: 400 });
    expect((directory as Error).message).toContain('Cannot read a directory');
    await expect(files.read(`${sandbox}/stdout`, -5, 10)).rejects.toBeInstanceOf(RangeError);
  });
});

describe('AgentFilesClient: what it sends, and the answers a fake agent does not give', () => {
  async function server(answer: (path: string) => { status: number; body: string } | 'silence') {
    const s = await startTestServer((request, response) => {
      const a = answer(request.path);
      if (a === 'silence') return;
      response.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
    cleanups.push(() => s.close());
    return s;
  }

  it('sends GET /files/read with the path, offset and length as query, Accept and the Authorization', async () => {
    const s = await server(() => ({ status: 200, body: '{"data":"abc","offset":7}' }));
    const basic = createAgentFilesClient({
      agent: s.url,
      credentials: { principal: 'ops', secret: 's3cret' },
    });
    expect(await basic.read('/frameworks/f/executors/e/runs/latest/std out', 7, 3)).toEqual({
      data: 'abc',
      offset: 7,
    });
    const bearer = createAgentFilesClient({
      agent: `${s.url.origin}/ignored/path`,
      authorization: 'Bearer t0ken',
    });
    await bearer.read('/tmp/x', 0, 1);
    const [first, second] = s.requests;
    expect(first?.method).toBe('GET');
    const url = new URL(first?.path ?? '', s.url);
    expect(url.pathname).toBe('/files/read');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      path: '/frameworks/f/executors/e/runs/latest/std out',
      offset: '7',
      length: '3',
    });
    expect(first?.headers['accept']).toBe('application/json');
    expect(first?.headers['authorization']).toBe(`Basic ${Buffer.from('ops:s3cret').toString('base64')}`);
    expect(second?.headers['authorization']).toBe('Bearer t0ken');
    expect(new URL(second?.path ?? '', s.url).pathname).toBe('/files/read');
  });

  it('maps 401/403, 5xx and answers that are not the files JSON to stable codes', async () => {
    const answers: Record<string, { status: number; body: string }> = {
      '/401': { status: 401, body: 'Unauthorized' },
      '/403': { status: 403, body: 'Forbidden' },
      '/503': { status: 503, body: 'Agent is recovering' },
      '/text': { status: 200, body: 'not json' },
      '/shape': { status: 200, body: '{"data":1}' },
    };
    const s = await server(
      (path) =>
        answers[new URL(path, 'http://x').searchParams.get('path') ?? ''] ?? {
          status: 500,
          body: '',
        },
    );
    const files = createAgentFilesClient({ agent: s.url });
    const failure = (path: string): Promise<AgentFilesError> =>
      files.read(path, 0, 1).then(
        (chunk) => {
          throw new Error(`expected ${path} to fail, read ${JSON.stringify(chunk)}`);
        },
        (e: unknown) => e as AgentFilesError,
      );
    expect(await failure('/401')).toMatchObject({ code: 'MESOS_AGENT_UNAUTHORIZED', status: 401 });
    expect(await failure('/403')).toMatchObject({ code: 'MESOS_AGENT_UNAUTHORIZED', status: 403 });
    const unavailable = await failure('/503');
    expect(unavailable).toMatchObject({ code: 'MESOS_AGENT_FILES_FAILED', status: 503, temporary: true });
    expect(unavailable.message).toContain('Agent is recovering');
    expect(await failure('/text')).toMatchObject({ code: 'MESOS_AGENT_FILES_FAILED', status: 200 });
    expect(await failure('/shape')).toMatchObject({ code: 'MESOS_AGENT_FILES_FAILED', status: 200 });
  });

  it('reports an agent that does not answer in time, or at all, as MESOS_AGENT_UNREACHABLE (temporary)', async () => {
    const s = await server(() => 'silence');
    const slow = createAgentFilesClient({ agent: s.url, timeoutMs: 100 });
    const timedOut = await slow.read('/tmp/x', 0, 1).catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ code: 'MESOS_AGENT_UNREACHABLE', temporary: true });
    expect((timedOut as Error).message).toContain('no answer within 100 ms');
    const closed = await startTestServer(() => {});
    await closed.close();
    const gone = createAgentFilesClient({ agent: `http://127.0.0.1:${closed.port}` });
    const refused = await gone.read('/tmp/x', 0, 1).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'MESOS_AGENT_UNREACHABLE', temporary: true });
  });
});
