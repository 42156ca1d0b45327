import { startFakeMesos, type FakeMesos, type FakeMesosOptions } from '@galley/mesos/testing';
import { Replay, type ReplayOptions } from './replay.js';
import { loadTranscript, TRANSCRIPTS_AVAILABLE } from './transcripts.js';

/**
 * A fake configured like the recorded cluster (agents 127.0.0.1:5051 zone a and :5052 zone b with
 * the recorded resources), with timings shortened: allocation every 100 ms instead of 1 s.
 */
export function recordedCluster(overrides: FakeMesosOptions = {}): FakeMesosOptions {
  return {
    agents: [
      { resources: 'cpus:2;mem:4096;disk:10000;ports:[31000-32000]', attributes: 'zone:a' },
      { resources: 'cpus:2;mem:4096;disk:10000;ports:[32001-33000]', attributes: 'zone:b' },
    ],
    allocationIntervalMs: 100,
    heartbeatIntervalSeconds: 15,
    statusUpdateRetryMs: { initial: 60_000, max: 600_000 },
    execution: 'processes',
    ...overrides,
  };
}

/** Whether the conformance suites can run (see TRANSCRIPTS_AVAILABLE: CI fails without them). */
export const CONFORMANCE_AVAILABLE = TRANSCRIPTS_AVAILABLE;

/** Starts a fake like the recording, replays the transcript, returns the replay (and stops the fake). */
export async function replayScenario(
  name: string,
  fakeOptions: FakeMesosOptions = {},
  replayOptions: ReplayOptions = {},
  inspect?: (replay: Replay, fake: FakeMesos) => Promise<void> | void,
): Promise<Replay> {
  const fake = await startFakeMesos(recordedCluster(fakeOptions));
  try {
    const replay = new Replay(loadTranscript(name), fake, replayOptions);
    await replay.run();
    await inspect?.(replay, fake);
    for (const stream of replay.streams.values()) stream.close();
    return replay;
  } finally {
    await fake.stop();
  }
}
