import { afterAll, beforeAll } from 'vitest';
import type { FakeAgentSpec } from '@galley/mesos/testing';
import {
  fakeOf,
  mesosFlags,
  startGalley,
  startMaster,
  tempDir,
  type Galley,
  type TestMaster,
} from '../mesos/harness.js';
import { deleteAllPipelines } from './harness.js';

/** The fake master and the built server against it, as one describe block of pipeline tests shares them. */
export interface MesosPipelineServer {
  /** The server's base URL. */
  url(): string;
  master(): TestMaster;
  galley(): Galley;
  /** SIGKILLs the server and starts it again on the same data dir and master (a crash and restart). */
  restartAfterKill(): Promise<Galley>;
  /** A task as the fake master knows it (its state, agent, info). */
  fakeTask(taskId: string): ReturnType<ReturnType<typeof fakeOf>['state']>['tasks'][number] | undefined;
}

/**
 * Starts, for the describe block it is called in, the fake master with `agents` and the BUILT server
 * against it (before all its tests), and after them deletes every pipeline (so no instance's
 * processes outlive the suite), stops the server, the master and removes the data dir. Every
 * Mesos pipeline suite needs exactly this; each said it again before.
 */
export function useMesosPipelineServer(agents: FakeAgentSpec[]): MesosPipelineServer {
  let master: TestMaster | undefined;
  let galley: Galley | undefined;
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  beforeAll(async () => {
    master = await startMaster({ agents });
    dir = await tempDir();
    galley = await startGalley(dir.path, mesosFlags(master.master));
  }, 120_000);
  afterAll(async () => {
    if (galley) {
      await deleteAllPipelines(galley.url);
      await galley.stop();
    }
    await master?.stop();
    await dir?.remove();
  }, 120_000);
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the ${what} did not start`);
    return value;
  };
  return {
    url: () => started(galley, 'server').url,
    master: () => started(master, 'master'),
    galley: () => started(galley, 'server'),
    restartAfterKill: async () => {
      await started(galley, 'server').kill();
      galley = await startGalley(started(dir, 'data dir').path, mesosFlags(started(master, 'master').master));
      return galley;
    },
    fakeTask: (taskId) =>
      fakeOf(started(master, 'master'))
        .state()
        .tasks.find((t) => t.taskId === taskId),
  };
}
