import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config/options.js';
import { applyHeapGrowth } from '../../src/heap-growth.js';
import { applyMallocThreshold } from '../../src/malloc-threshold.js';
import { type Fixtures, type FuzzRequest, Rng, requestFor } from './fuzz-requests.js';
import { HELLO_EXECUTE, HELLO_WORLD, startTestServer } from './harness.js';
import { operationsOf } from './openapi-operations.js';

// The API under fuzzed requests, generated from its own OpenAPI document (see fuzz-requests.ts):
// at least 20,000 of them against one server, with every content type, bad JSON, huge and odd
// strings, NUL and lone surrogates, deep nesting, bad path ids and query parameters. No answer
// is a 5xx, every error is `{code, message, fields?}` without the URL or a filesystem path in
// it, the server still answers at the end and its memory stays bounded. Runs never start here
// (the backends' launch is a no-op): fuzzed commands are never run.
//
// GALLEY_FUZZ_SEED replays a run (the seed is in every failure); GALLEY_FUZZ_REQUESTS changes how many.

const TOTAL = Number(process.env['GALLEY_FUZZ_REQUESTS'] ?? 20_000);
const SEED = Number(process.env['GALLEY_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const BATCH = 250;
const CONCURRENCY = 8;
/** A request not answered within this long counts as a failure (it would hang a client). */
const ANSWER_WITHIN_MS = 30_000;
/** Memory the server may have grown by after the warm-up (the embedded database grows with what is created). */
const RSS_GROWTH_BOUND_MB = 400;

/** A full garbage collection, so that memory measured is memory kept. */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const rssMb = () => {
  collectGarbage();
  return process.memoryUsage().rss / 1024 / 1024;
};

interface Failure {
  request: string;
  status: number | string;
  answer: string;
}

const describeRequest = (r: FuzzRequest) =>
  JSON.stringify({
    method: r.method,
    url: r.url.length > 300 ? `${r.url.slice(0, 300)}…(${r.url.length})` : r.url,
    headers: r.headers,
    payload:
      r.payload && r.payload.length > 300 ? `${r.payload.slice(0, 300)}…(${r.payload.length})` : r.payload,
  });

describe('the API under fuzzed requests', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let fixtures: Fixtures;

  beforeAll(async () => {
    // Memory as `galley serve` sets it up with its defaults (the server process's memory is what
    // is bounded): glibc's mmap threshold fixed, V8's heap growing factor.
    const defaultOf = (key: string) => Number(OPTIONS.find((o) => o.key === key)!.default());
    applyHeapGrowth(defaultOf('heapGrowingPercent'));
    await applyMallocThreshold(defaultOf('mallocMmapThresholdKb'));
    server = await startTestServer({ cpus: 1 });
    // Nothing fuzzed is ever run: the dispatch round places runs and pipeline launches, and the
    // backends launch nothing (runs stay PENDING, instances starting).
    for (const backend of server.runs.backends) Object.assign(backend, { launch: () => Promise.resolve() });
    const inject = server.app.inject.bind(server.app);
    const def = (await inject({ method: 'POST', url: '/api/v1/task', payload: HELLO_WORLD })).json();
    const run = (
      await inject({
        method: 'PUT',
        url: `/api/v1/task/${def.definition_id}/execute`,
        payload: HELLO_EXECUTE,
      })
    ).json();
    const pipeline = await inject({
      method: 'POST',
      url: '/pipelines',
      payload: {
        id: 'fuzzed',
        processes: { web: { id: 'web', command: 'true', resources: { cpu: 0.01, mem: 1 } } },
        instances: 1,
      },
    });
    expect([def.alias, typeof run.run_id, pipeline.statusCode]).toEqual([HELLO_WORLD.alias, 'string', 204]);
    fixtures = {
      definition_id: def.definition_id,
      alias: def.alias,
      run_id: run.run_id,
      pipeline_id: 'fuzzed',
    };
  });
  afterAll(async () => server?.stop());

  it(`answers ${TOTAL} generated requests without a 5xx, each error in the one shape; stays up with bounded memory`, async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const ops = operationsOf(doc);
    const arbitrary = fc.record({
      op: fc.constantFrom(...ops),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      text: fc.string({ unit: 'binary', maxLength: 64 }),
    });
    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    const dataDir = server.dataDir;

    const check = async (r: FuzzRequest) => {
      let timer: NodeJS.Timeout | undefined;
      const res = await Promise.race([
        server.app.inject({ method: r.method as 'GET', url: r.url, headers: r.headers, payload: r.payload }),
        new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ANSWER_WITHIN_MS))),
      ]).finally(() => clearTimeout(timer));
      if (res === null) {
        failures.push({ request: describeRequest(r), status: 'no answer', answer: '' });
        return;
      }
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const problem = answerProblem(r, res.statusCode, res.headers['content-type'], res.body, dataDir);
      if (problem)
        failures.push({
          request: describeRequest(r),
          status: res.statusCode,
          answer: `${problem}: ${res.body.slice(0, 300)}`,
        });
    };

    let sent = 0;
    let rssAfterWarmUp = 0;
    const started = Date.now();
    const seeds = new Rng(SEED);
    for (let batch = 0; sent < TOTAL && failures.length < 50; batch++) {
      const samples = fc.sample(arbitrary, { numRuns: Math.min(BATCH, TOTAL - sent), seed: seeds.seed() });
      const requests = samples.map((s) => requestFor(s.op, new Rng(s.seed), s.text, fixtures));
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < requests.length) await check(requests[next++]!);
        }),
      );
      sent += requests.length;
      if (batch === 3) rssAfterWarmUp = rssMb();
    }
    const seconds = (Date.now() - started) / 1000;
    const growthMb = rssMb() - rssAfterWarmUp;
    console.log(
      `fuzz: ${sent} requests in ${seconds.toFixed(1)} s, seed ${SEED}, RSS +${growthMb.toFixed(0)} MB after warm-up; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );

    expect(failures, `seed ${SEED} (GALLEY_FUZZ_SEED=${SEED} replays it)`).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(TOTAL);
    // The requests reached the handlers, not only the validators.
    const ok = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
    expect(ok).toBeGreaterThan(sent / 50);
    // Still up: the store answers, and a plain request works.
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
    const again = await server.app.inject({ method: 'GET', url: `/api/v1/history/${fixtures.run_id}` });
    expect(again.statusCode).toBe(200);
    expect(growthMb).toBeLessThan(RSS_GROWTH_BOUND_MB);
    // And nothing was run.
    expect(await readdir(join(dataDir, 'runs')).catch(() => [])).toEqual([]);
  }, 300_000);
});

/** What is wrong with an answer, or null. */
function answerProblem(
  r: FuzzRequest,
  status: number,
  contentType: string | number | string[] | undefined,
  body: string,
  dataDir: string,
): string | null {
  if (status >= 500) return `answered ${status}`;
  if (body.includes(dataDir) || /\/(tmp|work|home|root)\//.test(body))
    return 'a filesystem path in the answer';
  if (status < 400 || r.method === 'HEAD') return null;
  if (!String(contentType ?? '').startsWith('application/json'))
    return `an error of type ${String(contentType)}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'an error that is not JSON';
  }
  const e = parsed as { code?: unknown; message?: unknown; fields?: unknown };
  const keys = Object.keys(parsed as object).filter((k) => !['code', 'message', 'fields'].includes(k));
  if (typeof e.code !== 'string' || typeof e.message !== 'string' || keys.length > 0)
    return 'an error not in the {code, message, fields?} shape';
  if (e.fields !== undefined && (typeof e.fields !== 'object' || e.fields === null))
    return 'fields not an object';
  const path = r.url.split('?')[0]!;
  if (r.url.length > 12 && (body.includes(r.url) || body.includes(path)))
    return 'the URL repeated in the answer';
  return null;
}
