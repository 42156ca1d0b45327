import type { FakeAgentSpec } from '@galley/mesos/testing';
import { type MesosServer, useMesosServer } from '../mesos/harness.js';
import { deleteAllPipelines } from './harness.js';

/**
 * The Mesos set-up of a describe block of pipeline tests (useMesosServer): the fake master with
 * `agents` and the BUILT server against it; after its tests every pipeline is deleted first, so no
 * instance's processes outlive the suite.
 */
export function useMesosPipelineServer(agents: FakeAgentSpec[]): MesosServer {
  return useMesosServer({ agents }, { beforeStop: deleteAllPipelines });
}
