import { readFile, readdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { FakeAgent, FakeExecutor, SimulatedSandbox, World } from '../model/world.js';
import type { HttpRequest, HttpResponder } from '../wire/http-server.js';
import { encodeMesosJson } from '../wire/mesos-json.js';
import { sendDownload, sendJson, sendText } from '../wire/responses.js';

/**
 * The agent's files API as recorded in transcript 15: `/files/read` (`{"data","offset"}`, with
 * `offset=-1` or no offset answering the size), `/files/browse`, `/files/download` and
 * `/files/debug`, for sandbox host paths and for the virtual
 * `/frameworks/<fw>/executors/<ex>/runs/latest` paths. Simulated sandboxes live in memory.
 */

/** How many bytes `/files/read` returns when no `length` is given. */
const DEFAULT_READ_LENGTH = 16 * 4096;

interface Resolved {
  readonly hostPath: string;
  /** The path as the client named it (browse answers with this prefix). */
  readonly shownPath: string;
}

function allExecutors(agent: FakeAgent): FakeExecutor[] {
  return [...agent.executors.values(), ...agent.completedExecutors];
}

/** Maps a query path to a host path inside a sandbox of this agent, or undefined. */
function resolvePath(agent: FakeAgent, path: string): Resolved | undefined {
  const virtual = /^\/frameworks\/([^/]+)\/executors\/([^/]+)\/runs\/latest(\/.*)?$/.exec(path);
  if (virtual !== null) {
    const [, frameworkId, executorId, rest = ''] = virtual;
    const runs = allExecutors(agent).filter((e) => e.frameworkId === frameworkId && e.id === executorId);
    const latest = runs.find((e) => e.state !== 'terminated') ?? runs[runs.length - 1];
    if (latest === undefined) return undefined;
    return { hostPath: resolve(latest.directory + rest), shownPath: path.replace(/\/$/, '') };
  }
  const hostPath = resolve(path);
  const attached = allExecutors(agent).some(
    (e) => hostPath === e.directory || hostPath.startsWith(`${e.directory}/`),
  );
  return attached ? { hostPath, shownPath: hostPath } : undefined;
}

type Entry =
  { kind: 'file'; data: Buffer; mtime: number } | { kind: 'dir'; names: string[]; mtime: number } | undefined;

/** The in-memory sandbox at `hostPath` (simulate mode): recorded output, or empty files. */
function simulatedSandbox(world: World, agent: FakeAgent, hostPath: string): SimulatedSandbox | undefined {
  const stored = world.simulatedSandboxes.get(hostPath);
  if (stored !== undefined || world.options.execution !== 'simulate') return stored;
  for (const executor of allExecutors(agent)) {
    const tasks = [...executor.tasks.values(), ...executor.completedTasks];
    const dirs =
      executor.kind === 'default'
        ? tasks.map((t) => `${executor.directory}/tasks/${t.id}`)
        : [executor.directory];
    if (dirs.includes(hostPath)) {
      return {
        files: new Map([
          ['stdout', ''],
          ['stderr', ''],
        ]),
        mtime: executor.startedAt,
      };
    }
  }
  return undefined;
}

async function lookup(world: World, agent: FakeAgent, hostPath: string): Promise<Entry> {
  const simulatedDir = simulatedSandbox(world, agent, hostPath);
  if (simulatedDir !== undefined)
    return { kind: 'dir', names: [...simulatedDir.files.keys()], mtime: simulatedDir.mtime };
  const parent = simulatedSandbox(world, agent, resolve(hostPath, '..'));
  if (parent !== undefined) {
    const text = parent.files.get(basename(hostPath));
    return text === undefined ? undefined : { kind: 'file', data: Buffer.from(text), mtime: parent.mtime };
  }
  try {
    const info = await stat(hostPath);
    if (info.isDirectory())
      return { kind: 'dir', names: (await readdir(hostPath)).sort(), mtime: Math.floor(info.mtimeMs / 1000) };
    return { kind: 'file', data: await readFile(hostPath), mtime: Math.floor(info.mtimeMs / 1000) };
  } catch {
    return undefined;
  }
}

/** Handles `/files/*` on an agent; returns false for paths it does not serve. */
export async function handleFiles(
  world: World,
  agent: FakeAgent,
  request: HttpRequest,
  res: HttpResponder,
): Promise<boolean> {
  if (request.path === '/files/debug') {
    const map: Record<string, string> = {};
    for (const executor of allExecutors(agent)) {
      map[`/frameworks/${executor.frameworkId}/executors/${executor.id}/runs/latest`] = executor.directory;
    }
    sendJson(res, JSON.stringify(map));
    return true;
  }
  const action = /^\/files\/(read|browse|download)(\.json)?$/.exec(request.path)?.[1];
  if (action === undefined) return false;
  const path = request.query.get('path');
  if (path === null) {
    sendText(res, 400, "Expecting 'path=value' in query.\n");
    return true;
  }
  const resolved = resolvePath(agent, path);
  const entry = resolved === undefined ? undefined : await lookup(world, agent, resolved.hostPath);
  if (resolved === undefined || entry === undefined) {
    sendText(res, 404, '');
    return true;
  }
  if (action === 'read') answerRead(request, res, entry);
  else if (action === 'download') {
    if (entry.kind === 'dir') sendText(res, 400, 'Cannot download a directory.\n');
    else sendDownload(res, entry.data, basename(resolved.hostPath));
  } else await answerBrowse(world, agent, res, resolved, entry);
  return true;
}

function answerRead(request: HttpRequest, res: HttpResponder, entry: NonNullable<Entry>): void {
  if (entry.kind === 'dir') {
    sendText(res, 400, 'Cannot read a directory.\n');
    return;
  }
  const offsetText = request.query.get('offset');
  const offset = offsetText === null ? -1 : Number(offsetText);
  const lengthText = request.query.get('length');
  const length = lengthText === null ? DEFAULT_READ_LENGTH : Number(lengthText);
  if (!Number.isInteger(offset) || !Number.isInteger(length) || length < -1) {
    sendText(res, 400, `Failed to parse offset/length: ${offsetText ?? ''}/${lengthText ?? ''}\n`);
    return;
  }
  const size = entry.data.length;
  if (offset === -1) {
    sendJson(res, JSON.stringify({ data: '', offset: size }));
    return;
  }
  const end = length === -1 ? size : Math.min(size, offset + length);
  const data = offset >= size ? '' : entry.data.subarray(offset, end).toString('utf8');
  sendJson(res, JSON.stringify({ data, offset }));
}

async function answerBrowse(
  world: World,
  agent: FakeAgent,
  res: HttpResponder,
  resolved: Resolved,
  entry: NonNullable<Entry>,
): Promise<void> {
  const names = entry.kind === 'dir' ? entry.names : [];
  const owner = userInfo().username;
  const items = [];
  for (const name of names) {
    const child = await lookup(world, agent, join(resolved.hostPath, name));
    if (child === undefined) continue;
    items.push({
      gid: owner,
      mode: child.kind === 'dir' ? 'drwxr-xr-x' : '-rw-r--r--',
      mtime: child.mtime,
      nlink: child.kind === 'dir' ? 2 : 1,
      path: `${resolved.shownPath}/${name}`,
      size: child.kind === 'file' ? child.data.length : 4096,
      uid: owner,
    });
  }
  sendJson(res, encodeMesosJson(items));
}
