import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { queueFields, withQueueFlags } from '../../src/cli/commands/queues.js';

const parse = (args: string[]) =>
  queueFields(withQueueFlags(new Command('run').exitOverride()).parse(args, { from: 'user' }).opts());

describe('galley run: queue, array and dependency flags', () => {
  it('become the execute fields', () => {
    expect(
      parse([
        '--queue',
        'batch',
        '--array',
        '20',
        '--parallelism',
        '4',
        '--after',
        'r1',
        '--after',
        'r2:ended:per-index',
      ]),
    ).toEqual({
      queue: 'batch',
      array_size: 20,
      array_parallelism: 4,
      depends_on: [
        { run_id: 'r1', condition: 'succeeded' },
        { run_id: 'r2', condition: 'ended', per_index: true },
      ],
    });
    expect(parse([])).toEqual({});
  });

  it('refuses a bad value naming the flag', () => {
    expect(() => parse(['--array', '1'])).toThrow(/--array: expected a whole number ≥ 2, got "1"/);
    expect(() => parse(['--after', 'r1:soon'])).toThrow(
      /--after r1:soon: expected RUN\[:ended\|:succeeded\]\[:per-index\]/,
    );
  });
});
