import { describe, expect, it } from 'vitest';
import { readLeadership } from '../../src/api/health.js';

describe('leadership from /api/v1/health', () => {
  it('names the leading replica, its epoch and since when', () => {
    expect(
      readLeadership({
        status: 'ok',
        leader: false,
        replica: 'b',
        leader_id: 'a',
        leader_url: 'http://a:1424',
        epoch: 7,
        leader_since: '2026-12-07T01:00:00.000Z',
        replicas: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      }),
    ).toEqual({
      replica: 'b',
      answeringLeads: false,
      leaderId: 'a',
      leaderUrl: 'http://a:1424',
      epoch: 7,
      since: '2026-12-07T01:00:00.000Z',
      replicas: 3,
    });
  });

  it('says no replica leads while none holds the lease', () => {
    expect(readLeadership({ leader: false, replica: 'b', leader_id: null, epoch: null })).toMatchObject({
      leaderId: null,
      epoch: null,
    });
  });

  it('takes a server without replicas (only `leader: true`) as leading itself', () => {
    expect(readLeadership({ status: 'ok', leader: true })).toMatchObject({
      leaderId: 'this server',
      replicas: 1,
    });
  });
});
