/**
 * A new PGlite data directory, made once at `npm run build` instead of at each first start: PGlite
 * runs PostgreSQL's initdb inside WebAssembly, which took 3.3 s of a 5.3 s first start on a quiet
 * machine (13 s loaded, 0.9 GB at its peak), and then the migrations (2.1 s loaded). The build
 * leaves a cluster with the migrations applied beside this module (`pglite-template/`, never
 * opened by a server); a first start copies it (`copyTemplate`). Without it (running from sources,
 * or a template of another PGlite version or other migrations) the server runs initdb as before. `node pglite-template.js` makes it when it is missing or stale.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { distPath } from '../dist-paths.js';
import { loadMigrations, migrate } from './migrate.js';

/** Where the build puts the template. */
export const TEMPLATE_DIR = distPath('store/pglite-template');
/** The file in the template naming the PGlite version that made it. */
const MARK = 'galley-template-version';

/** The installed PGlite's version (its package.json, found from its entry point). */
function pgliteVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * What the template must have been made by: this PGlite version, and these migrations (the
 * template has them applied; another set, and the server would find a schema it did not make).
 */
async function expectedMark(): Promise<string> {
  const hash = createHash('sha256');
  for (const m of await loadMigrations()) hash.update(`${m.version} ${m.name}\n${m.sql}\n`);
  return `${pgliteVersion()} ${hash.digest('hex')}`;
}

/** True when the template exists and was made by the installed PGlite with these migrations. */
async function templateUsable(): Promise<boolean> {
  const mark = await readFile(join(TEMPLATE_DIR, MARK), 'utf8').catch(() => null);
  return mark !== null && mark.trim() === (await expectedMark());
}

/**
 * Copies the template into `dataDir` (a new directory) through a staging directory renamed at the
 * end, so a start that dies half-way leaves no half cluster; false when there is no usable template.
 */
export async function copyTemplate(dataDir: string): Promise<boolean> {
  if (!(await templateUsable())) return false;
  const staging = `${dataDir}.new`;
  await rm(staging, { recursive: true, force: true });
  await cp(TEMPLATE_DIR, staging, { recursive: true, filter: (src) => !src.endsWith(MARK) });
  // The copy is the server's alone, as initdb makes it (the template is readable by all).
  await setModes(staging, 0o700, 0o600);
  await rm(dataDir, { recursive: true, force: true });
  await rename(staging, dataDir);
  return true;
}

/** Sets the mode of `dir`, and of every directory and file under it. */
async function setModes(dir: string, dirMode: number, fileMode: number): Promise<void> {
  await chmod(dir, dirMode);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await setModes(path, dirMode, fileMode);
    else await chmod(path, fileMode);
  }
}

/** Makes the template (initdb in a child process, see pglite-init.ts) unless it is there already. */
async function build(): Promise<void> {
  if (await templateUsable()) return;
  const staging = `${TEMPLATE_DIR}.new`;
  await rm(staging, { recursive: true, force: true });
  const init = distPath('store/pglite-init.js');
  await promisify(execFile)(process.execPath, [init, staging], { timeout: 600_000 });
  // The migrations too: 2.1 s of a first start on a loaded machine.
  const { createPgliteClient } = await import('./pglite-client.js');
  const client = await createPgliteClient(staging);
  try {
    await migrate(client, await loadMigrations());
  } finally {
    await client.close();
  }
  await writeFile(join(staging, MARK), `${await expectedMark()}\n`);
  // A pristine cluster holds nothing secret: a server run by another user than the build's copies it.
  await setModes(staging, 0o755, 0o644);
  await rm(TEMPLATE_DIR, { recursive: true, force: true });
  await rename(staging, TEMPLATE_DIR);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await build();
