import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { newRunState } from '@galley/core';
import type { FastifyError, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorAnswer } from '../../src/api/errors.js';
import { readLogPage } from '../../src/api/log-reader.js';
import { type Backend, type LogChunk, LogUnavailableError } from '../../src/backends/backend.js';
import { readSandbox, SandboxReadError } from '../../src/backends/mesos/sandbox-logs.js';
import type { RunRecord } from '../../src/model/records.js';
import { eventually, startTestServer } from './harness.js';

// Issue 11 item 5: a log that cannot be read (its host gone, the agent unreachable, a file that
// cannot be read, another server's run) is a 502 or 503 JSON error that says why, never a 200
// with an empty log.

/** A run of `attempts` attempts in `status`. */
function run(status: RunRecord['state']['status'], attempts: number): RunRecord {
  return {
    runId: 'r1',
    definitionId: 'd1',
    alias: 'a',
    groupName: '',
    image: '',
    command: 'true',
    cluster: 'c',
    engine: 'local',
    ownerId: 'me',
    env: [],
    memory: 1,
    cpu: 1,
    gpu: 0,
    description: null,
    idempotenceKey: null,
    activeDeadlineSeconds: null,
    pipelineId: null,
    state: { ...newRunState(0), status, attemptCount: attempts },
    host: null,
    runExceptions: null,
    maxMemoryUsed: null,
    maxCpuUsed: null,
    version: 1,
    updatedAt: 0,
  };
}

/** A backend whose attempts in `unreadable` throw, and whose others answer `attempt <seq>\n`. */
function backendWith(unreadable: number[]): Backend {
  return {
    async logs(ref: { seq: number }, stream: string, offset: number): Promise<LogChunk> {
      if (unreadable.includes(ref.seq))
        throw new LogUnavailableError('host-failed', `agent of attempt ${ref.seq} unreachable`);
      const data =
        stream === 'stdout' && offset === 0 ? Buffer.from(`attempt ${ref.seq}\n`) : Buffer.alloc(0);
      return { data, nextOffset: offset + data.length, size: offset + data.length };
    },
  } as unknown as Backend;
}

/** A backend whose attempt 1 wrote `stdout` and `stderr` (positioned reads of those bytes). */
function backendOf(stdout: string, stderr: string): Backend {
  return {
    async logs(_ref: unknown, stream: string, offset: number, maxBytes: number): Promise<LogChunk> {
      const all = Buffer.from(stream === 'stdout' ? stdout : stderr);
      const data = all.subarray(offset, offset + maxBytes);
      return { data, nextOffset: offset + data.length, size: all.length };
    },
  } as unknown as Backend;
}

describe('paging a run whose output has multi-byte characters', () => {
  it('gives all of stdout before any of stderr, even when a page ends early at a character boundary', async () => {
    // 'é' is 2 bytes: a 4-byte page holds 'hé' and 1 byte of the next 'é', cut back to 'hé'.
    const backend = backendOf('hééé', 'ERR');
    const pages: string[] = [];
    let position = null;
    for (let i = 0; i < 10; i++) {
      const page = await readLogPage(backend, run('STOPPED', 1), position, 'both', 4);
      pages.push(page.data.toString());
      position = page.position;
      if (page.caughtUp) break;
    }
    expect(pages.join('')).toBe('héééERR');
    expect(pages[0]).toBe('hé');
  });
});

describe('reading a page of a run whose output cannot be read', () => {
  it('is an error for the last attempt, never an empty page', async () => {
    await expect(readLogPage(backendWith([1]), run('STOPPED', 1), null, 'both', 100)).rejects.toBeInstanceOf(
      LogUnavailableError,
    );
    await expect(readLogPage(backendWith([2]), run('RUNNING', 2), null, 'both', 100)).resolves.toMatchObject({
      data: Buffer.from('attempt 1\n'),
    });
  });

  it('goes on past an earlier attempt whose host failed, to the later ones', async () => {
    const page = await readLogPage(backendWith([1]), run('STOPPED', 2), null, 'both', 100);
    expect(page.data.toString()).toBe('attempt 2\n');
  });

  it('is empty for an attempt not started yet (PENDING)', async () => {
    const page = await readLogPage(backendWith([1]), run('PENDING', 1), null, 'both', 100);
    expect(page.data.length).toBe(0);
  });

  it('is answered 502 when the host failed (a Mesos agent unreachable), 503 when it cannot be found from here', async () => {
    const request = { routeOptions: {} } as unknown as FastifyRequest;
    const unreachable = await readSandbox(
      { agentUrl: 'http://127.0.0.1:1', frameworkId: 'f', executorId: 'e' },
      'stdout',
      0,
      100,
      { timeoutMs: 2_000 },
    ).catch((err: unknown) => err);
    expect(unreachable).toBeInstanceOf(SandboxReadError);
    expect(errorAnswer(unreachable as FastifyError, request)).toMatchObject({
      status: 502,
      body: {
        code: 'LOG_HOST_FAILED',
        message: expect.stringMatching(/^the log cannot be read: could not reach the agent/),
      },
    });
    const gone = new LogUnavailableError('not-here', 'the agent is not known');
    expect(errorAnswer(gone as unknown as FastifyError, request)).toMatchObject({
      status: 503,
      body: { code: 'LOG_UNAVAILABLE', message: 'the log cannot be read: the agent is not known' },
    });
  });
});

describe('the logs of a local run whose files are gone or unreadable', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const get = (url: string) => server.app.inject({ method: 'GET', url });

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.stop());

  async function finishedRun(alias: string): Promise<string> {
    await server.app.inject({ method: 'POST', url: '/api/v1/task', payload: { alias, command: 'echo out' } });
    const { run_id } = (
      await server.app.inject({
        method: 'PUT',
        url: `/api/v1/task/alias/${alias}/execute`,
        payload: { run_tags: { owner_id: 'me' } },
      })
    ).json();
    await eventually(async () =>
      (await get(`/api/v1/history/${run_id}`)).json().status === 'STOPPED' ? true : undefined,
    );
    expect((await get(`/api/v1/${run_id}/logs`)).json().log).toBe('out\n');
    return run_id as string;
  }

  it('answers 503 saying the output is not on this host, for pages, raw text and followers alike', async () => {
    const runId = await finishedRun('files-gone');
    await rm(join(server.dataDir, 'runs', runId), { recursive: true, force: true });
    for (const query of ['', '?raw_text=true', '?follow=true', '?stream=stderr']) {
      const res = await get(`/api/v1/${runId}/logs${query}`);
      expect(res.statusCode, query).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json();
      expect(body.code).toBe('LOG_UNAVAILABLE');
      expect(body.message).toMatch(
        /left no output on host .*: it ran on another server, or its files were removed/,
      );
      expect(body.message).not.toContain(server.dataDir);
    }
  });

  it('answers 503 naming the error, not the path, when a file cannot be read', async () => {
    const runId = await finishedRun('file-unreadable');
    const stdout = join(server.dataDir, 'runs', runId, '1', 'stdout');
    await rm(stdout);
    await mkdir(stdout); // a directory where the file was: reading it fails with EISDIR
    const res = await get(`/api/v1/${runId}/logs`);
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toMatch(/the stdout file of attempt .* cannot be read on host .* \(EISDIR\)/);
    expect(res.body).not.toContain(server.dataDir);
  });
});
