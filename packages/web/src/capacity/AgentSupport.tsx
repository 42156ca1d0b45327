import type { ClusterAgent } from '../api/types.js';

/**
 * A Mesos cluster's agents as Galley runs work there (`mesos.agent_support` of `GET /clusters`):
 * how each runs images (MESOS or DOCKER containerizer, or none), whether runs go to the shared
 * galley-executor or fell back to Mesos' command executor, and what the agent answered when
 * something failed there — so an operator sees which agent flag to fix.
 */
export function AgentSupport({ agents }: { agents: readonly ClusterAgent[] | undefined }) {
  if (!agents || agents.length === 0) return null;
  return (
    <table className="table" aria-label="Agents">
      <thead>
        <tr>
          <th>Agent</th>
          <th>Images</th>
          <th>Executor</th>
          <th>Failed</th>
        </tr>
      </thead>
      <tbody>
        {agents.map((a) => (
          <tr key={a.agentId} data-agent={a.agentId}>
            <td className="mono" title={a.agentId}>
              {a.hostname || a.agentId}
            </td>
            <td data-field="images">{a.images}</td>
            <td data-field="executor">
              {a.executor === 'command' && a.executorFailure ? 'command (fallback)' : a.executor}
            </td>
            <td data-field="failures" className="muted">
              {[
                a.imageFailure && `images: ${a.imageFailure}`,
                a.executorFailure && `executor: ${a.executorFailure}`,
              ]
                .filter(Boolean)
                .join(' · ') || '—'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
