import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requirePath } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer } from './harness.js';

// Issue 11 items 1, 4 and 7: Flotilla's quick start as its README prints it (curl sends no JSON
// content type), PUT semantics as documented, and definitions' active_deadline_seconds.

/** Flotilla's README: `../shared/seeds/flotilla-os.md` beside the repository; GALLEY_SEEDS overrides the folder. */
const SEEDS =
  process.env['GALLEY_SEEDS'] ?? fileURLToPath(new URL('../../../../../shared/seeds', import.meta.url));
const FLOTILLA_README = join(SEEDS, 'flotilla-os.md');
const seeds = requirePath(
  'Flotilla seed README',
  FLOTILLA_README,
  'CI places ../shared/seeds beside the repository',
);

/** The README's hello-world.json (the block after `> hello-world.json`) and its execute curl. */
function flotillaQuickStart(readme: string) {
  const file = /> hello-world\.json\n>\n```\n([\s\S]*?)\n```/.exec(readme)?.[1];
  const define = /^(curl -XPOST localhost:3000\/api\/v1\/task --data @examples\/hello-world\.json)$/m.exec(
    readme,
  )?.[1];
  const execute =
    /^curl -XPUT localhost:3000(\/api\/v1\/task\/alias\/hello-flotilla\/execute) -d '([\s\S]*?)'$/m.exec(
      readme,
    );
  if (!file || !define || !execute) throw new Error('the seed README no longer prints the quick start');
  return { file: `${file}\n`, define, executePath: execute[1]!, executeBody: execute[2]! };
}

/**
 * The bytes curl 7/8 sends for `curl -X<method> <url> --data <data>`: its request line, Host,
 * User-Agent and Accept, then Content-Length and Content-Type application/x-www-form-urlencoded
 * (what `--data`/`-d` always sends), then the data. `--data @file` strips the file's CR and LF.
 */
function curlBytes(method: string, port: number, path: string, data: string): string {
  return (
    `${method} ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n` +
    `Content-Length: ${Buffer.byteLength(data)}\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n${data}`
  );
}

/** Sends raw bytes on a new connection; answers the status and the body of the response. */
function rawRequest(port: number, bytes: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text.slice(0, head));
      if (head >= 0 && length && Buffer.byteLength(text.slice(head + 4)) >= Number(length[1])) {
        socket.end();
        resolve({ status: Number(text.slice(9, 12)), body: text.slice(head + 4) });
      }
    });
    socket.on('error', reject);
    socket.write(bytes);
  });
}

describe.runIf(seeds.available)("Flotilla's quick start, byte for byte (issue 11 item 1)", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let port: number;
  const start = flotillaQuickStart(existsSync(FLOTILLA_README) ? readFileSync(FLOTILLA_README, 'utf8') : '');

  beforeAll(async () => {
    server = await startTestServer();
    port = Number(new URL(await server.listen()).port);
  });
  afterAll(async () => server?.stop());

  it('defines hello-flotilla from --data @hello-world.json and runs it from -d, with no JSON content type', async () => {
    const defined = await rawRequest(
      port,
      curlBytes('POST', port, '/api/v1/task', start.file.replace(/[\r\n]/g, '')),
    );
    expect(defined.status, defined.body).toBe(200);
    expect(JSON.parse(defined.body)).toMatchObject({ alias: 'hello-flotilla', memory: 512 });
    const ran = await rawRequest(port, curlBytes('PUT', port, start.executePath, start.executeBody));
    expect(ran.status, ran.body).toBe(200);
    const runId = JSON.parse(ran.body).run_id as string;
    const done = await eventually(async () => {
      const run = (await server.app.inject({ method: 'GET', url: `/api/v1/history/${runId}` })).json();
      return run.status === 'STOPPED' ? run : undefined;
    });
    expect(done.exit_code).toBe(0);
    const logs = (await server.app.inject({ method: 'GET', url: `/api/v1/${runId}/logs` })).json();
    expect(logs.log).toBe('hello yourusername\n');
  });

  it('takes the same from curl itself, where it is installed', async () => {
    const curl = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].find((p) => existsSync(p));
    if (!curl) return; // the raw bytes above are what it sends
    const dir = join(server.dataDir, 'examples');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    await writeFile(join(dir, 'hello-world.json'), start.file.replace('hello-flotilla', 'hello-curl'));
    const run = promisify(execFile);
    const argv = (line: string) => line.replace('localhost:3000', `127.0.0.1:${port}`).split(' ').slice(1);
    const defined = await run(curl, ['-s', ...argv(start.define)], { cwd: server.dataDir });
    expect(JSON.parse(defined.stdout)).toMatchObject({ alias: 'hello-curl' });
    const executed = await run(
      curl,
      ['-s', '-XPUT', `127.0.0.1:${port}/api/v1/task/alias/hello-curl/execute`, '-d', start.executeBody],
      { cwd: server.dataDir },
    );
    expect(JSON.parse(executed.stdout)).toMatchObject({ alias: 'hello-curl', status: 'QUEUED' });
  });

  it('reads a body as JSON with no content type or text/plain, and names what is wrong with one that is not JSON', async () => {
    const noType =
      `POST /api/v1/task HTTP/1.1\r\nHost: localhost\r\nContent-Length: 35\r\n\r\n{"alias":"no-type","command":"true"}`.replace(
        'Content-Length: 35',
        `Content-Length: ${Buffer.byteLength('{"alias":"no-type","command":"true"}')}`,
      );
    expect((await rawRequest(port, noType)).status).toBe(200);
    const plain = await server.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { 'content-type': 'text/plain' },
      payload: '{"alias":"plain","command":"true"}',
    });
    expect(plain.statusCode, plain.body).toBe(200);
    const form = await rawRequest(port, curlBytes('POST', port, '/api/v1/task', 'alias=form&command=true'));
    expect(form.status).toBe(400);
    expect(JSON.parse(form.body)).toMatchObject({
      code: 'BAD_JSON',
      message: expect.stringMatching(/not valid JSON \(sent as application\/x-www-form-urlencoded\): /),
      fields: { body: 'is not valid JSON' },
    });
  });
});

describe('definitions: PUT as documented, active_deadline_seconds (issue 11 items 4 and 7)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const inject = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    server.app.inject({ method, url, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.stop());

  it('a list given empty clears it, an absent one is kept, an empty string keeps the value', async () => {
    const d = (
      await inject('POST', '/api/v1/task', {
        alias: 'lists',
        command: 'true',
        ports: [8080],
        tags: ['a'],
        env: [{ name: 'A', value: '1' }],
        constraints: ['zone:a'],
      })
    ).json();
    const cleared = await inject('PUT', `/api/v1/task/${d.definition_id}`, { ports: [], image: '' });
    expect(cleared.json()).toMatchObject({ ports: [], tags: ['a'], env: [{ name: 'A', value: '1' }] });
    const more = await inject('PUT', `/api/v1/task/${d.definition_id}`, {
      tags: [],
      env: [],
      constraints: [],
    });
    expect(more.json()).toMatchObject({ ports: [], tags: [], env: [], constraints: [], command: 'true' });
  });

  it('a definition keeps active_deadline_seconds; its runs inherit it unless the execute gives its own', async () => {
    const d = await inject('POST', '/api/v1/task', {
      alias: 'deadline',
      command: 'true',
      active_deadline_seconds: 600,
    });
    expect(d.statusCode, d.body).toBe(200);
    const { definition_id } = d.json();
    expect(d.json().active_deadline_seconds).toBe(600);
    const execute = (body: object) =>
      inject('PUT', `/api/v1/task/${definition_id}/execute`, { run_tags: { owner_id: 'me' }, ...body });
    expect((await execute({})).json().active_deadline_seconds).toBe(600);
    expect((await execute({ active_deadline_seconds: 5 })).json().active_deadline_seconds).toBe(5);
    // Other changes keep it; null clears it.
    expect(
      (await inject('PUT', `/api/v1/task/${definition_id}`, { disk: 10 })).json().active_deadline_seconds,
    ).toBe(600);
    const cleared = await inject('PUT', `/api/v1/task/${definition_id}`, {
      active_deadline_seconds: null,
    } as object);
    expect(cleared.json().active_deadline_seconds).toBeNull();
    expect((await execute({})).json().active_deadline_seconds).toBeNull();
    const tooLong = await inject('POST', '/api/v1/task', {
      alias: 'd2',
      active_deadline_seconds: 31_536_001,
    });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().fields['body.active_deadline_seconds']).toMatch(/31536000/);
  });
});
