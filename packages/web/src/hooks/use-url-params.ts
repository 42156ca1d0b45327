import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';

/**
 * The page's search params, updated optimistically. The router applies URL changes as transitions,
 * so controls rendered straight from the URL would lag a click (a checkbox would snap back until
 * the URL lands). This answers what was last set at once, and the URL once it has caught up; a
 * change of the URL that was not set here (back, forward, a link) wins. Updates replace the
 * history entry.
 */
export function useUrlParams(): [URLSearchParams, (next: URLSearchParams) => void] {
  const [params, setParams] = useSearchParams();
  const current = params.toString();
  const [optimistic, setOptimistic] = useState<string | null>(null);
  const sent = useRef<string[]>([]);

  useEffect(() => {
    const at = sent.current.indexOf(current);
    if (at === -1) {
      // Not one of ours: the user navigated.
      sent.current = [];
      setOptimistic(null);
    } else {
      sent.current = sent.current.slice(at + 1);
      if (sent.current.length === 0) setOptimistic(null);
    }
  }, [current]);

  const set = (next: URLSearchParams) => {
    const text = next.toString();
    sent.current.push(text);
    setOptimistic(text);
    setParams(next, { replace: true });
  };
  return [optimistic !== null ? new URLSearchParams(optimistic) : params, set];
}
