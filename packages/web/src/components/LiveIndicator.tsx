import { useRunStreamState } from '../app/run-stream-context.js';

const WORDS = { connecting: 'Connecting…', open: 'Live', error: 'Reconnecting…' } as const;

/** Whether run changes are arriving live from the server. */
export function LiveIndicator() {
  const state = useRunStreamState();
  return (
    <span
      className="live"
      data-state={state}
      role="status"
      title={state === 'open' ? 'Run changes arrive live' : 'Live updates are not flowing'}
    >
      <span className="live-dot" aria-hidden="true" />
      {WORDS[state]}
    </span>
  );
}
