import { useEffect, useState } from 'react';
import { getLeadership, type Leadership } from '../api/health.js';
import { formatDateTime } from '../format/time.js';

/** How often the leadership is asked for: an election takes a few seconds at most. */
const POLL_MS = 3_000;

/**
 * The leadership of the server's replicas, asked every few seconds (and when the tab comes back).
 * undefined until the first answer, and while the server does not answer (the live indicator
 * says so).
 */
export function useLeadership(): Leadership | undefined {
  const [leadership, setLeadership] = useState<Leadership | undefined>(undefined);
  useEffect(() => {
    let abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = () => {
      abort.abort();
      abort = new AbortController();
      if (timer) clearTimeout(timer);
      getLeadership(abort.signal).then(setLeadership, (err: unknown) => {
        if (!(err instanceof DOMException && err.name === 'AbortError')) setLeadership(undefined);
      });
      timer = setTimeout(poll, POLL_MS);
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') poll();
    };
    poll();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      abort.abort();
      if (timer) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);
  return leadership;
}

/** The leading replica, in the header: its id, with the epoch and since when on hover. */
export function LeaderChip({ leadership }: { leadership: Leadership | undefined }) {
  if (!leadership || leadership.leaderId === null) return null;
  const details = [
    `Replica ${leadership.leaderId} schedules`,
    leadership.epoch !== null ? `epoch ${leadership.epoch}` : null,
    leadership.since ? `since ${formatDateTime(leadership.since)}` : null,
    `${leadership.replicas} replica${leadership.replicas === 1 ? '' : 's'}`,
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <span className="leader-chip" title={details} data-testid="leader">
      Leader <code>{leadership.leaderId}</code>
    </span>
  );
}

/** A banner while no replica holds the scheduler lease: nothing starts until one does. */
export function NoLeaderBanner({ leadership }: { leadership: Leadership | undefined }) {
  if (!leadership || leadership.leaderId !== null) return null;
  return (
    <div className="leader-banner-wrap">
      <div className="banner banner-warning" role="alert" data-testid="no-leader">
        <strong>No replica leads right now.</strong> An election is under way: the API answers and accepts
        work, but nothing is started, retried or stopped until a replica holds the scheduler lease (a few
        seconds).
      </div>
    </div>
  );
}
