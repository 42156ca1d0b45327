import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileFrameworkIdStore, createMemoryFrameworkIdStore } from '@galley/mesos';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('framework id stores', () => {
  it('memory store: save, load, clear', async () => {
    const store = createMemoryFrameworkIdStore();
    expect(await store.load()).toBeUndefined();
    await store.save('f-1');
    expect(await store.load()).toBe('f-1');
    await store.clear();
    expect(await store.load()).toBeUndefined();
    expect(await createMemoryFrameworkIdStore('f-0').load()).toBe('f-0');
  });

  it('file store: survives a new instance, replaces atomically, leaves no temp files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'galley-fwid-'));
    dirs.push(dir);
    const path = join(dir, 'framework-id');
    const store = createFileFrameworkIdStore(path);
    expect(await store.load()).toBeUndefined();
    await store.save('18f26bbf-3bfc-4042-9576-c4738dbefe74-0003');
    expect(await createFileFrameworkIdStore(path).load()).toBe('18f26bbf-3bfc-4042-9576-c4738dbefe74-0003');
    expect(await readFile(path, 'utf8')).toBe('18f26bbf-3bfc-4042-9576-c4738dbefe74-0003\n');
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save(`id-${i}`)));
    expect(await store.load()).toMatch(/^id-\d+$/);
    expect(await readdir(dir)).toEqual(['framework-id']);
    await store.clear();
    expect(await store.load()).toBeUndefined();
    await store.clear();
  });

  it('file store: an empty file means no id; other read errors are reported', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'galley-fwid-'));
    dirs.push(dir);
    await writeFile(join(dir, 'empty'), '\n');
    expect(await createFileFrameworkIdStore(join(dir, 'empty')).load()).toBeUndefined();
    await expect(createFileFrameworkIdStore(dir).load()).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
