import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamHub } from '../../src/api/stream-hub.js';
import type { RunRecord } from '../../src/model/records.js';
import { RunFeed } from '../../src/runs/feed.js';
import { newRun } from '../store/fixtures.js';

// The event stream's fan-out, over real HTTP on loopback: every client gets the same frame, made
// once per change, and the hub says when it has no room for another client.

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  vi.restoreAllMocks();
});

const run = (id: string, version: number): RunRecord =>
  ({ ...newRun(id, {}, 1_000), version, updatedAt: 1_000 }) as RunRecord;

/** An HTTP server that hands every request to the hub; answers its URL. */
async function serve(hub: StreamHub): Promise<string> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': hello\n\n');
    const only = new URL(req.url ?? '/', 'http://x').searchParams.getAll('run_id');
    hub.add(res, only.length > 0 ? new Set(only) : null);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Reads a stream's text until it holds `count` `event: run` frames. */
async function frames(body: ReadableStream<Uint8Array>, count: number): Promise<string[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const found = () => text.split('\n\n').filter((b) => b.includes('event: run'));
  while (found().length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return found();
}

describe('StreamHub', () => {
  it('serialises each change once for all clients and honours each client’s run filter', async () => {
    const feed = new RunFeed();
    const hub = new StreamHub(feed, 10);
    const url = await serve(hub);
    const all = await Promise.all([fetch(url), fetch(url), fetch(url)]);
    const onlyB = await fetch(`${url}/?run_id=b`);
    await vi.waitFor(() => expect(hub.size).toBe(4));
    const stringify = vi.spyOn(JSON, 'stringify');
    feed.publish([run('a', 2), run('b', 3)]);
    const runFrames = stringify.mock.calls.filter(([v]) => (v as { run_id?: string })?.run_id !== undefined);
    expect(runFrames).toHaveLength(2); // one per change, not one per client
    const seen = await Promise.all(all.map((r) => frames(r.body!, 2)));
    for (const s of seen) expect(s).toEqual(seen[0]);
    expect(seen[0]!.map((f) => f.split('\n')[0])).toEqual(['id: 2', 'id: 3']);
    const filtered = await frames(onlyB.body!, 1);
    expect(filtered[0]).toContain('"run_id":"b"');
  });

  it('has room for at most maxClients at a time, and room again when one leaves', async () => {
    const hub = new StreamHub(new RunFeed(), 2);
    const url = await serve(hub);
    const a = new AbortController();
    await fetch(url, { signal: a.signal });
    await fetch(url);
    await vi.waitFor(() => expect(hub.size).toBe(2));
    expect(hub.hasRoom()).toBe(false);
    a.abort();
    await vi.waitFor(() => expect(hub.hasRoom()).toBe(true));
  });
});
