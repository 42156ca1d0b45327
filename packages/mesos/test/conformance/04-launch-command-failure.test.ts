import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)(
  'conformance 04-launch-command-failure (fake master vs Mesos 1.12)',
  () => {
    it('reports `exit 3` as TASK_FAILED "Command exited with status 3" without a reason, and no FAILURE', async () => {
      const replay = await replayScenario('04');
      expect(replay.diffs).toEqual([]);
    });
  },
);
