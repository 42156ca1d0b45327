import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, GALLEY_MAIN } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { galley, PATIENCE_MS, PATIENT, startServer, type ServerProcess } from '../e2e/harness.js';
import { deleteAllPipelines, request, waitFor, waitGone } from './harness.js';

// Pipeline process logs on the local backend, end to end (issue 11 item 3): the BUILT server,
// real processes; pages with a last_seen token, raw text, one stream, a follower that goes on
// from one launch to the next and ends when the instance stops; the CLI's `pipeline logs`.

const built = builtGalley('pipeline logs e2e (local)').available;

/** Prints a line in several scripts (multi-byte characters cross page ends), then one to stderr, then waits. */
const TALKER =
  'echo "hello from $GALLEY_INSTANCE_ID"; echo "ünïcödé ✓ ünïcödé ✓ ünïcödé ✓"; echo "to stderr" >&2; ' +
  'i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo "line $i"; done; exec sleep 1000';
/** Says which launch it is, then fails: every launch is a restart of the same instance. */
const CRASHER = 'echo "launch $GALLEY_LAUNCH_ID"; sleep 0.3; exit 1';

function pipeline(id: string, command: string, instances = 1): Record<string, unknown> {
  return {
    id,
    processes: {
      main: { id: 'main', shell: true, command, resources: { cpu: 0.05, mem: 16 }, kill_grace_period: 1 },
      side: {
        id: 'side',
        shell: true,
        command: 'echo "side $GALLEY_INSTANCE_ID"; exec sleep 1000',
        resources: { cpu: 0.05, mem: 16 },
        kill_grace_period: 1,
      },
    },
    instances,
  };
}

const logsPath = (id: string, instance: string, process: string, prefix = '/api/v1') =>
  `${prefix}/pipelines/${id}/instances/${instance}/processes/${process}/logs`;

describe.runIf(built)('pipeline process logs on the local backend (built server)', PATIENT, () => {
  let dir: string;
  let server: ServerProcess;
  const url = () => server.url;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-plogs-'));
    server = await startServer(join(dir, 'data'), ['--local-cpus', '4', '--local-memory-mb', '4096']);
  }, 120_000);
  afterAll(async () => {
    if (server) {
      await deleteAllPipelines(url());
      await server.stop();
    }
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  /** The whole output of a process now, read as JSON pages of `maxBytes`. */
  async function readAll(id: string, instance: string, process: string, query = '', maxBytes = 65_536) {
    let token = '';
    let text = '';
    let pages = 0;
    for (;;) {
      const res = await request<{ log: string; last_seen: string }>(
        url(),
        'GET',
        `${logsPath(id, instance, process)}?max_bytes=${maxBytes}${query}${token ? `&last_seen=${token}` : ''}`,
      );
      expect(res.status).toBe(200);
      if (res.body.log === '') return { text, pages };
      text += res.body.log;
      token = res.body.last_seen;
      pages++;
    }
  }

  it('answers pages with a last_seen token (small pages never split a character), raw text and one stream', async () => {
    expect((await request(url(), 'POST', '/pipelines', pipeline('talk', TALKER))).status).toBe(204);
    await waitFor(url(), 'talk', 'the instance running', (p) => p.tasks[0]?.ok === true);
    const expected = 'hello from talk.1\nünïcödé ✓ ünïcödé ✓ ünïcödé ✓\nline 1\nline 2\nline 3\nto stderr\n';
    const whole = await vi.waitFor(
      async () => {
        const all = await readAll('talk', 'talk.1', 'main');
        if (all.text !== expected) throw new Error(`not all output yet: ${JSON.stringify(all.text)}`);
        return all;
      },
      { timeout: PATIENCE_MS, interval: 50 },
    );
    expect(whole.pages).toBe(1);
    // Pages of 7 bytes: the same text, never a broken character.
    const small = await readAll('talk', 'talk.1', 'main', '', 7);
    expect(small.text).toBe(expected);
    expect(small.pages).toBeGreaterThan(10);
    expect((await readAll('talk', 'talk.1', 'main', '&stream=stderr')).text).toBe('to stderr\n');
    expect((await readAll('talk', 'talk.1', 'side')).text).toBe('side talk.1\n');

    // Raw text at Faustian's paths (no /api/v1), the next token in a header.
    const raw = await fetch(`${url()}${logsPath('talk', 'talk.1', 'main', '')}?raw_text=true&stream=stdout`);
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await raw.text()).toBe(expected.replace('to stderr\n', ''));
    const next = await request<{ log: string }>(
      url(),
      'GET',
      `${logsPath('talk', 'talk.1', 'main')}?stream=stdout&last_seen=${raw.headers.get('x-galley-last-seen')}`,
    );
    expect(next.body.log).toBe('');
  });

  it('names what does not exist (404) and refuses a token it did not give (400)', async () => {
    const cases: [string, number, RegExp][] = [
      [logsPath('nope', 'nope.1', 'main'), 404, /pipeline "nope" does not exist/],
      [logsPath('talk', 'talk.9', 'main'), 404, /talk\.9/],
      [logsPath('talk', 'talk.1', 'other'), 404, /has no process "other" \(it has main, side\)/],
      [`${logsPath('talk', 'talk.1', 'main')}?last_seen=bm9wZQ`, 400, /last_seen/],
    ];
    for (const [path, status, message] of cases) {
      const res = await request<{ message: string }>(url(), 'GET', path);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.body.message).toMatch(message);
    }
  });

  it('follows a process from launch to launch (restarts) until the instance is stopped', async () => {
    expect((await request(url(), 'POST', '/pipelines', pipeline('crashy', CRASHER))).status).toBe(204);
    const res = await fetch(`${url()}${logsPath('crashy', 'crashy.1', 'main')}?follow=true&stream=stdout`);
    expect(res.status).toBe(200);
    const decoder = new TextDecoder();
    let text = '';
    const launches = () => new Set([...text.matchAll(/^launch (\S+)$/gm)].map((m) => m[1]));
    const reader = (async () => {
      const body = res.body!.getReader();
      for (let r = await body.read(); !r.done; r = await body.read())
        text += decoder.decode(r.value, { stream: true });
    })();
    await vi.waitFor(
      () => {
        if (launches().size < 2) throw new Error(`one launch so far: ${text}`);
      },
      { timeout: PATIENCE_MS, interval: 50 },
    );
    // Every launch it saw is one of the instance's, in order.
    const ids = [...launches()];
    expect(ids.map((l) => Number(l!.split('.')[1]))).toEqual(ids.map((_, k) => k + 1));
    // Stopping the instance ends the follower.
    expect((await request(url(), 'PATCH', '/pipelines/crashy', { instances: 0 })).status).toBe(204);
    await reader;
    await waitFor(url(), 'crashy', 'no instance left', (p) => p.tasks.length === 0);
  });

  it('galley pipeline logs: one process as it is, every process of every instance prefixed, --follow until it stops', async () => {
    expect((await request(url(), 'POST', '/pipelines', pipeline('duo', TALKER, 2))).status).toBe(204);
    await waitFor(url(), 'duo', 'both instances running', (p) => p.tasks.filter((t) => t.ok).length === 2);
    const one = await vi.waitFor(
      async () => {
        const r = await galley(url(), ['pipeline', 'logs', 'duo', '2', 'main', '--stream', 'stdout']);
        if (!r.stdout.includes('line 3')) throw new Error(`not all output yet: ${r.stdout} ${r.stderr}`);
        return r;
      },
      { timeout: PATIENCE_MS, interval: 100 },
    );
    expect(one.code).toBe(0);
    expect(one.stdout).toBe('hello from duo.2\nünïcödé ✓ ünïcödé ✓ ünïcödé ✓\nline 1\nline 2\nline 3\n');

    const all = await galley(url(), ['pipeline', 'logs', 'duo']);
    expect(all.code).toBe(0);
    for (const line of [
      '[duo.1 main] hello from duo.1',
      '[duo.2 main] to stderr',
      '[duo.1 side] side duo.1',
      '[duo.2 side] side duo.2',
    ])
      expect(all.stdout.split('\n')).toContain(line);

    const missing = await galley(url(), ['pipeline', 'logs', 'duo', '7']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/duo\.7/);

    // --follow prints as it comes and ends when the instance is gone.
    const child = spawn(
      process.execPath,
      [GALLEY_MAIN, 'pipeline', 'logs', 'duo', 'duo.1', 'side', '--follow'],
      {
        env: { ...process.env, GALLEY_URL: url() },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await vi.waitFor(
      () => {
        if (!out.includes('side duo.1')) throw new Error(`nothing yet: ${out}`);
      },
      { timeout: PATIENCE_MS, interval: 50 },
    );
    expect((await request(url(), 'DELETE', '/pipelines/duo')).status).toBe(204);
    expect(await exited).toBe(0);
    // (Its stderr follows: the shell's word on the SIGTERM that stopped it.)
    expect(out).toMatch(/^side duo\.1\n/);
    await waitGone(url(), 'duo');
  });
});
