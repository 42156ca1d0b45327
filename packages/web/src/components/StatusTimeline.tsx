import type { Run, RunEvent } from '../api/types.js';
import { formatDuration, formatWhen } from '../format/time.js';
import { statusLook } from '../runs/status.js';
import { buildTimeline } from '../runs/timeline.js';

const MARKS = { done: '✓', current: '•', upcoming: '', skipped: '–' } as const;

/** What the time spent in a step is called. */
const SPENT: Record<string, string> = {
  QUEUED: 'waited',
  PENDING: 'starting for',
  RUNNING: 'ran',
  NEEDS_RETRY: 'waiting',
};

/**
 * QUEUED → PENDING → RUNNING → STOPPED with the time each was reached and how long the run spent
 * before the next step. The last step says how it ended (Success / Failed / Stopped).
 */
export function StatusTimeline({ run, events, now }: { run: Run; events: RunEvent[]; now: number }) {
  const steps = buildTimeline(run, events);
  const look = statusLook(run);
  return (
    <ol className="timeline" aria-label="Status timeline">
      {steps.map((step, i) => {
        const nextAt = steps.slice(i + 1).find((s) => s.at !== null)?.at ?? null;
        const spent =
          step.at !== null && step.state !== 'skipped'
            ? (nextAt ?? (step.state === 'current' ? now : null))
            : null;
        const isEnd = step.status === 'STOPPED' && step.state === 'done';
        const outcome = isEnd && look.tone === 'danger' ? 'failed' : undefined;
        return (
          <li
            key={step.status}
            className="timeline-step"
            data-state={step.state}
            data-status={step.status}
            data-outcome={outcome}
            aria-current={step.state === 'current' ? 'step' : undefined}
          >
            <span className="timeline-dot" aria-hidden="true">
              {outcome ? '✕' : MARKS[step.state]}
            </span>
            <div className="timeline-label">
              {step.label}
              {isEnd && look.label !== step.label ? ` · ${look.label}` : ''}
            </div>
            <div className="timeline-time">
              {step.state === 'skipped'
                ? 'skipped'
                : step.at !== null
                  ? formatWhen(step.at, now)
                  : step.state === 'upcoming'
                    ? 'not yet'
                    : '—'}
            </div>
            {spent !== null && step.at !== null && !isEnd ? (
              <div className="timeline-time">
                {SPENT[step.status] ?? ''} {formatDuration(Math.max(0, spent - step.at))}
              </div>
            ) : null}
            <span className="visually-hidden">({step.state})</span>
          </li>
        );
      })}
    </ol>
  );
}
