import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { arrayField } from '../wire/call-parsing.js';
import type { JsonObject } from '../model/world.js';

/**
 * The Mesos fetcher, for a custom executor's `CommandInfo.uris`: before the executor's command
 * runs, each URI is downloaded into the sandbox under its base name (or `output_file`) — http(s)
 * URIs with a GET, `file://` URIs and absolute paths copied — and, unless `extract` is false or
 * `executable` is true, archives (`.tar`, `.tar.gz`, `.tgz`, `.tar.bz2`, `.tar.xz`, `.zip`) are
 * extracted there. A URI that cannot be fetched fails the container's launch with Mesos' words:
 * "Failed to fetch all URIs for container '<id>': exit status 256".
 */

const exec = promisify(execFile);
const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz|zip)$/;

/** Fetches every URI of `command` into `sandbox`; rejects with the agent's message on the first failure. */
export async function fetchUris(command: JsonObject, sandbox: string, containerId: string): Promise<void> {
  const uris = arrayField(command, 'uris').filter((u): u is JsonObject => !!u && typeof u === 'object');
  if (uris.length === 0) return;
  await mkdir(sandbox, { recursive: true });
  try {
    for (const uri of uris) await fetchOne(uri, sandbox);
  } catch {
    throw new Error(`Failed to fetch all URIs for container '${containerId}': exit status 256`);
  }
}

async function fetchOne(uri: JsonObject, sandbox: string): Promise<void> {
  const value = typeof uri.value === 'string' ? uri.value : '';
  const name =
    typeof uri.output_file === 'string' && uri.output_file !== ''
      ? uri.output_file
      : basename(value.replace(/[?#].*$/, ''));
  const target = join(sandbox, name);
  if (/^https?:\/\//.test(value)) {
    const answer = await fetch(value);
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    await writeFile(target, Buffer.from(await answer.arrayBuffer()));
  } else if (value.startsWith('file://') || value.startsWith('/')) {
    await copyFile(value.startsWith('file://') ? fileURLToPath(value) : value, target);
  } else {
    throw new Error(`unsupported URI ${value}`);
  }
  if (uri.executable === true) {
    await exec('chmod', ['+x', target]);
    return;
  }
  if (uri.extract === false || !ARCHIVE.test(name)) return;
  if (name.endsWith('.zip')) await exec('unzip', ['-o', '-q', target, '-d', sandbox]);
  else await exec('tar', ['-xf', target, '-C', sandbox]);
}
