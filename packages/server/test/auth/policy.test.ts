import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, denied, loadPolicy, PERMISSIONS, type Principal } from '../../src/auth/policy.js';

// The default policy's decision (pure): admins everything, the authenticated read, a group's
// members act on their group only, a run's owner may stop it and read its logs.

const group = fc.constantFrom('examples', 'reports', 'ops');
const permission = fc.constantFrom(...PERMISSIONS);
const principal = (groups: string[], subject = 'ana'): Principal => ({
  subject,
  groups,
  via: 'token',
  key: 'k',
});

describe('the default policy', () => {
  it('lets admins do everything, and everyone authenticated read', () => {
    fc.assert(
      fc.property(permission, fc.array(group, { maxLength: 2 }), (p, groups) => {
        expect(denied(DEFAULT_POLICY, principal(['admin']), p, { groups })).toBeNull();
        expect(denied(DEFAULT_POLICY, principal([]), 'read', { groups })).toBeNull();
      }),
    );
  });

  it("refuses a non-member anything but read on a group's resources, naming the group", () => {
    fc.assert(
      fc.property(permission, group, group, (p, mine, theirs) => {
        fc.pre(mine !== theirs && p !== 'read');
        expect(denied(DEFAULT_POLICY, principal([mine]), p, { groups: [theirs] })).toBe(theirs);
        const own = denied(DEFAULT_POLICY, principal([mine]), p, { groups: [mine] });
        expect(own).toBe(p === 'admin' ? mine : null);
      }),
    );
  });

  it('lets the owner of a run stop it and read its logs, not run or define in its group', () => {
    const run = { groups: ['reports'], owner: 'ana' };
    expect(denied(DEFAULT_POLICY, principal([]), 'stop', run)).toBeNull();
    expect(denied(DEFAULT_POLICY, principal([]), 'logs', run)).toBeNull();
    expect(denied(DEFAULT_POLICY, principal([]), 'run', run)).toBe('reports');
    expect(denied(DEFAULT_POLICY, principal([], 'bob'), 'stop', run)).toBe('reports');
  });

  it('needs the permission on every group for resources of none, and on both groups of a move', () => {
    expect(denied(DEFAULT_POLICY, principal(['examples']), 'define', { groups: [] })).toBe('*');
    expect(denied(DEFAULT_POLICY, principal(['examples']), 'define', { groups: ['examples', 'ops'] })).toBe(
      'ops',
    );
    const grant = {
      ...DEFAULT_POLICY,
      grants: [{ groups: ['oncall'], permissions: ['stop' as const], on: ['*'] }],
    };
    expect(denied(grant, principal(['oncall']), 'stop', { groups: ['ops'] })).toBeNull();
    expect(denied(grant, principal(['oncall']), 'run', { groups: ['ops'] })).toBe('ops');
  });
});

describe('a policy file', () => {
  it('keeps the defaults for keys it leaves out, and names a bad key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'galley-policy-'));
    try {
      await writeFile(join(dir, 'ok.json'), JSON.stringify({ adminGroups: ['ops'] }));
      expect(loadPolicy(join(dir, 'ok.json'))).toEqual({ ...DEFAULT_POLICY, adminGroups: ['ops'] });
      await writeFile(
        join(dir, 'bad.json'),
        JSON.stringify({ grants: [{ groups: ['a'], permissions: ['fly'], on: ['*'] }] }),
      );
      expect(() => loadPolicy(join(dir, 'bad.json'))).toThrow(
        /grants\[0\]\.permissions must be an array of read, define/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
