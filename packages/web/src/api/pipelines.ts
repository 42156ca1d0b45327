import { requestJson } from './http.js';
import type { Pipeline } from './types.js';

/**
 * Faustian's pipelines API, mounted by Galley under /api/v1/pipelines. A 404 on the list means the
 * server has no pipelines API (the UI then says pipelines are not enabled).
 */
const BASE = '/api/v1/pipelines';

/**
 * Every pipeline, id order. Faustian answers a map `{<id>: pipeline}`; an array or
 * `{pipelines: [...]}` is read as well.
 */
export async function listPipelines(signal?: AbortSignal): Promise<Pipeline[]> {
  const answer = await requestJson<unknown>('GET', BASE, { signal });
  let list: Pipeline[];
  if (Array.isArray(answer)) list = answer as Pipeline[];
  else if (answer && typeof answer === 'object') {
    const inner = (answer as Record<string, unknown>)['pipelines'];
    if (Array.isArray(inner)) list = inner as Pipeline[];
    else if (inner && typeof inner === 'object') list = Object.values(inner) as Pipeline[];
    else list = Object.values(answer) as Pipeline[];
  } else list = [];
  return list.filter((p) => p && typeof p.id === 'string').sort((a, b) => a.id.localeCompare(b.id));
}

/** The pipeline; ApiError 404 when there is none (or no pipelines API). */
export function getPipeline(id: string, signal?: AbortSignal): Promise<Pipeline> {
  return requestJson<Pipeline>('GET', `${BASE}/${encodeURIComponent(id)}`, { signal });
}

/** Creates a pipeline from Faustian's JSON (the server answers 204). */
export async function createPipeline(pipeline: Record<string, unknown>): Promise<void> {
  await requestJson<unknown>('POST', BASE, { body: pipeline });
}

/**
 * Changes a pipeline. A body with only `instances` scales; anything else starts a rolling update.
 */
export async function patchPipeline(id: string, change: Record<string, unknown>): Promise<void> {
  await requestJson<unknown>('PATCH', `${BASE}/${encodeURIComponent(id)}`, { body: change });
}

/** Deletes a pipeline; its processes are stopped within their grace period. */
export async function deletePipeline(id: string): Promise<void> {
  await requestJson<unknown>('DELETE', `${BASE}/${encodeURIComponent(id)}`);
}

/** Faustian's example pipeline, with a real command, as the starting point of a new one. */
export const PIPELINE_TEMPLATE = {
  id: 'example-pipeline',
  container: { image: 'python:3.12', network: 'HOST' },
  environment: {},
  processes: {
    worker: {
      id: 'worker',
      shell: true,
      command: 'while true; do echo working; sleep 5; done',
      arguments: [],
      environment: {},
      resources: { cpu: 0.1, mem: 64 },
      port_mappings: [],
      kill_grace_period: 5,
    },
  },
  executor_resources: { cpu: 0.01, mem: 32, disk: 1 },
  instances: 2,
};
