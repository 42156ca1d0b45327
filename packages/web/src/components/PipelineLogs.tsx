import { useCallback, useState } from 'react';
import { errorFromResponse, send } from '../api/http.js';
import { LOG_PAGE_BYTES } from '../api/runs.js';
import type { LogPage, Pipeline } from '../api/types.js';
import { useLogTail } from '../log/use-log-tail.js';
import { LogViewer } from './LogViewer.js';

/** The path of a process's log: `/api/v1/pipelines/{id}/instances/{instance}/processes/{process}/logs`. */
export function processLogPath(pipelineId: string, instanceId: string, process: string): string {
  const e = encodeURIComponent;
  return `/api/v1/pipelines/${e(pipelineId)}/instances/${e(instanceId)}/processes/${e(process)}/logs`;
}

/** One page of a process's output after `lastSeen` (from its instance's current launch when undefined). */
async function getProcessLogPage(
  path: string,
  lastSeen: string | undefined,
  signal: AbortSignal,
): Promise<LogPage> {
  const response = await send('GET', path, {
    query: { last_seen: lastSeen, max_bytes: LOG_PAGE_BYTES },
    signal,
  });
  if (!response.ok) throw await errorFromResponse(response);
  return (await response.json()) as LogPage;
}

/**
 * The output of one process of one instance (stdout, then stderr), chosen with two selectors, in
 * the run page's log viewer: followed while the instance runs (a restart goes on in its next
 * launch), searchable, with a link to the raw text.
 */
export function PipelineLogs({ pipeline }: { pipeline: Pipeline }) {
  const instances = (pipeline.tasks ?? []).map((t) => t.id);
  const processes = Object.keys(pipeline.processes ?? {});
  const [chosenInstance, setInstance] = useState<string | null>(null);
  const [chosenProcess, setProcess] = useState<string | null>(null);
  // A chosen instance that is gone (scaled down, replaced) gives way to the first one there.
  const instance =
    chosenInstance !== null && instances.includes(chosenInstance) ? chosenInstance : (instances[0] ?? null);
  const process =
    chosenProcess !== null && processes.includes(chosenProcess) ? chosenProcess : (processes[0] ?? null);
  const task = (pipeline.tasks ?? []).find((t) => t.id === instance);
  const live = task !== undefined && !task.killing;
  const path = instance && process ? processLogPath(pipeline.id, instance, process) : null;
  const read = useCallback(
    (lastSeen: string | undefined, signal: AbortSignal) =>
      path ? getProcessLogPage(path, lastSeen, signal) : Promise.resolve({ log: '', last_seen: lastSeen }),
    [path],
  );
  const tail = useLogTail(path ?? 'none', !live, Math.random, read);

  return (
    <div role="group" aria-label="Process logs" data-testid="process-logs">
      <div className="row" style={{ marginBottom: '0.5rem' }}>
        {instances.length === 0 ? (
          <span className="muted">No instance runs now: there is no output to show.</span>
        ) : (
          <>
            <label htmlFor="log-instance">Logs of instance</label>
            <select
              id="log-instance"
              className="input"
              value={instance ?? ''}
              onChange={(e) => setInstance(e.target.value)}
            >
              {instances.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
            <label htmlFor="log-process">Process</label>
            <select
              id="log-process"
              className="input"
              value={process ?? ''}
              onChange={(e) => setProcess(e.target.value)}
            >
              {processes.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </>
        )}
      </div>
      {path ? (
        <LogViewer
          key={path}
          runId={path}
          tail={tail}
          live={live}
          rawHref={`${path}?raw_text=true&max_bytes=4194304`}
          noun="process"
        />
      ) : null}
    </div>
  );
}
