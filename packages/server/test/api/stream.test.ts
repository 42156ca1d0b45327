import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GalleyServer } from '../../src/app.js';
import { startTestServer } from './harness.js';

// The server-sent event stream over real HTTP on loopback.

let server: GalleyServer & { stop(): Promise<void> };
let base: string;
beforeAll(async () => {
  server = await startTestServer();
  base = await server.listen();
});
afterAll(async () => server?.stop());

/** Reads SSE events from a response body until `until` says stop. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (events: { event: string; id: string; data: unknown }[]) => boolean,
) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; id: string; data: unknown }[] = [];
  let buffer = '';
  const deadline = Date.now() + 20_000;
  while (!until(events)) {
    if (Date.now() > deadline) throw new Error(`stream ended early: ${JSON.stringify(events)}`);
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((l) => l && !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
      );
      if (fields['event'])
        events.push({
          event: fields['event'],
          id: fields['id'] ?? '',
          data: JSON.parse(fields['data'] ?? 'null'),
        });
    }
  }
  await reader.cancel();
  return events;
}

describe('run stream (SSE over real HTTP)', () => {
  it('sends each change of a run as `event: run` with the run JSON, in order, until STOPPED', async () => {
    await fetch(`${base}/api/v1/task`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ alias: 'streamed', command: 'echo hi; sleep 0.2' }),
    });
    const stream = await fetch(`${base}/api/v1/stream`);
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const executed = await fetch(`${base}/api/v1/task/alias/streamed/execute`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ run_tags: { owner_id: 'sse' } }),
    });
    const { run_id } = (await executed.json()) as { run_id: string };
    const events = await readEvents(stream.body!, (evs) =>
      evs.some(
        (e) =>
          (e.data as { run_id: string; status: string }).run_id === run_id &&
          (e.data as { status: string }).status === 'STOPPED',
      ),
    );
    const mine = events.filter((e) => (e.data as { run_id: string }).run_id === run_id);
    expect(mine.every((e) => e.event === 'run')).toBe(true);
    expect(mine.map((e) => (e.data as { status: string }).status)).toEqual([
      'QUEUED',
      'PENDING',
      'RUNNING',
      'STOPPED',
    ]);
    expect(mine.map((e) => Number(e.id))).toEqual([1, 2, 3, 4]);
    expect(mine.at(-1)!.data).toMatchObject({ exit_code: 0, alias: 'streamed', owner_id: 'sse' });
  });
});
