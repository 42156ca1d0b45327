import type { Pipeline, PipelineTask } from '../api/types.js';
import { formatMemoryMb, formatCpus } from '../format/resources.js';
import { formatWhen } from '../format/time.js';
import { isHealthy } from '../pipelines/health.js';

/** The pipeline's processes: command, resources, ports, grace period. */
export function ProcessesTable({ pipeline }: { pipeline: Pipeline }) {
  const processes = Object.entries(pipeline.processes ?? {});
  if (processes.length === 0) return <div className="muted">No processes.</div>;
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Processes">
        <thead>
          <tr>
            <th scope="col">Process</th>
            <th scope="col">Command</th>
            <th scope="col" className="num">
              CPU
            </th>
            <th scope="col" className="num">
              Memory
            </th>
            <th scope="col">Ports</th>
            <th scope="col" className="num">
              Grace
            </th>
          </tr>
        </thead>
        <tbody>
          {processes.map(([id, p]) => (
            <tr key={id}>
              <td className="mono">{id}</td>
              <td
                className="mono truncate"
                title={[p.command, ...(p.arguments ?? [])].filter(Boolean).join(' ')}
              >
                {[p.command, ...(p.arguments ?? [])].filter(Boolean).join(' ') || '—'}
              </td>
              <td className="num">{formatCpus(p.resources?.cpu)}</td>
              <td className="num">{formatMemoryMb(p.resources?.mem)}</td>
              <td className="mono">
                {(p.port_mappings ?? [])
                  .map((m) => `${m.host_port || 'any'}:${m.container_port}/${m.protocol}`)
                  .join(', ') || '—'}
              </td>
              <td className="num">{p.kill_grace_period ?? 30} s</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function instanceState(task: PipelineTask): { label: string; tone: string } {
  if (task.killing) return { label: 'Stopping', tone: 'neutral' };
  if (task.failing) return { label: 'Failing', tone: 'danger' };
  if (isHealthy(task)) return { label: 'Healthy', tone: 'success' };
  return { label: 'Starting', tone: 'warning' };
}

/** Each instance with the state of each of its processes, failures and last message. */
export function InstancesTable({ pipeline, now }: { pipeline: Pipeline; now: number }) {
  const tasks = pipeline.tasks ?? [];
  if (tasks.length === 0)
    return (
      <div className="muted" style={{ padding: 'var(--space-3) var(--space-4)' }}>
        No instances running.
      </div>
    );
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Instances">
        <thead>
          <tr>
            <th scope="col">Instance</th>
            <th scope="col">State</th>
            <th scope="col">Processes</th>
            <th scope="col">Launched</th>
            <th scope="col" className="num">
              Failures
            </th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => {
            const state = instanceState(t);
            return (
              <tr key={t.id} data-instance-id={t.id}>
                <td className="mono truncate" title={t.id}>
                  {t.id.includes('$') ? t.id.slice(t.id.indexOf('$') + 1) : t.id}
                </td>
                <td>
                  <span className={`badge badge-${state.tone}`}>{state.label}</span>
                </td>
                <td>
                  {Object.entries(t.processes ?? {}).map(([name, p]) => (
                    <span
                      key={name}
                      className="tag mono"
                      title={[p.id, p.agent_id ? `on ${p.agent_id}` : ''].filter(Boolean).join(' ')}
                    >
                      {name}: {(p.status ?? '?').replace(/^TASK_/, '').toLowerCase()}
                    </span>
                  ))}
                </td>
                <td className="nowrap">{formatWhen(t.launched, now)}</td>
                <td className="num">{t.failures ?? 0}</td>
                <td>{t.message || <span className="muted">—</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
