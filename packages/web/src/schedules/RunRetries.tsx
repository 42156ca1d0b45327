import type { Run, RunEvent } from '../api/types.js';

/**
 * A run's retries: its attempts against the most it may have (its retry strategy), and why each
 * attempt was retried or not — the reasons the timeline recorded.
 */
export function RunRetries({ run, events }: { run: Run; events: RunEvent[] }) {
  const retries = events.filter((e) => e.status === 'NEEDS_RETRY' && e.reason);
  const strategy = run.retry_strategy;
  if (retries.length === 0 && !strategy) return null;
  return (
    <section className="card" aria-labelledby="retries-title" data-testid="run-retries">
      <h2 id="retries-title">Retries</h2>
      <p>
        Attempt {run.attempt_count ?? 0}
        {strategy?.attempts ? ` of at most ${strategy.attempts}` : ''}
        {strategy?.evaluate_on_exit?.length
          ? ` · rules: ${strategy.evaluate_on_exit
              .map(
                (r) =>
                  `${[r.on_exit_code && `exit ${r.on_exit_code}`, r.on_reason].filter(Boolean).join(' ')} → ${r.action}`,
              )
              .join(', ')}`
          : ''}
      </p>
      <ol>
        {retries.map((e, i) => (
          <li key={i}>{e.reason}</li>
        ))}
      </ol>
    </section>
  );
}
