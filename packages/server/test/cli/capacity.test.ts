import { describe, expect, it } from 'vitest';
import { formatCapacity } from '../../src/cli/commands/capacity.js';

describe('galley capacity', () => {
  it('prints per role the nodes now and wanted, the demand, agents, drains and the last decisions with reasons', () => {
    const out = formatCapacity(
      'mesos',
      [
        {
          role: 'batch',
          provider: 'aws-asg',
          group: 'asg-batch',
          min: 1,
          max: 3,
          current_nodes: 2,
          desired_nodes: 1,
          needed_nodes: 1,
          demand: { running: { cpus: 1.5, mem: 512 }, queued: { cpus: 0, mem: 0, runs: 0 } },
          agents: [
            { hostname: 'i-01', tasks: 1, draining: false },
            { hostname: 'i-02', tasks: 0, draining: true },
          ],
          draining: [{ hostname: 'i-02', phase: 'scheduled' }],
          decisions: [
            {
              at: Date.UTC(2026, 0, 1),
              action: 'drain',
              current: 2,
              desired: 1,
              reason: 'drain idle agent i-02',
            },
            { at: Date.UTC(2025, 0, 1), action: 'up', current: 1, desired: 2, reason: 'demand 3 cpus' },
          ],
          error: null,
        },
      ],
      1,
    );
    expect(out).toContain('cluster mesos');
    expect(out).toMatch(
      /batch\s+aws-asg asg-batch\s+2 → 1 \[1, 3\]\s+1\s+1\.5 cpus 512 MB\s+0 runs, 0 cpus 0 MB\s+2 \(1 busy\)\s+i-02 \(scheduled\)/,
    );
    expect(out).toContain('2026-01-01T00:00:00.000Z drain 2 → 1: drain idle agent i-02');
    expect(out).not.toContain('demand 3 cpus');
  });
});
