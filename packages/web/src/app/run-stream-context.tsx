import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { RunStream, type RunStreamListener, type StreamState } from '../api/stream.js';

const RunStreamContext = createContext<RunStream | null>(null);

/** One run-change stream for the whole app; it is connected while any view listens to it. */
export function RunStreamProvider({ children }: { children: ReactNode }) {
  const [stream] = useState(() => new RunStream());
  return <RunStreamContext.Provider value={stream}>{children}</RunStreamContext.Provider>;
}

/**
 * Listens to run changes while the component is mounted. The listener may change every render;
 * the latest one is called.
 */
export function useRunStream(listener: Omit<RunStreamListener, 'onState'>): void {
  const stream = useContext(RunStreamContext);
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => {
    if (!stream) return;
    return stream.subscribe({
      onRun: (run) => ref.current.onRun?.(run),
      onReconnect: () => ref.current.onReconnect?.(),
    });
  }, [stream]);
}

/** The stream's connection state, for the "live" indicator. */
export function useRunStreamState(): StreamState {
  const stream = useContext(RunStreamContext);
  const [state, setState] = useState<StreamState>(stream?.state ?? 'connecting');
  useEffect(() => stream?.subscribe({ onState: setState }), [stream]);
  return state;
}
