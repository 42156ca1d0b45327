import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)(
  'conformance 03-launch-command-success (fake master vs Mesos 1.12)',
  () => {
    it('answers the LAUNCH of `echo hi` with STARTING, RUNNING, FINISHED as recorded, and no FAILURE', async () => {
      const replay = await replayScenario('03');
      expect(replay.diffs).toEqual([]);
    });
  },
);
