import { useEffect, useRef, useState } from 'react';

/**
 * Text typed into a box whose value also lives in the URL (a search, a filter). The box keeps its
 * own state, and `commit` writes the URL `delayMs` after the last key (at once for 0). Router
 * updates are transitions that land later; their echoes of what was typed are recognised and
 * ignored, so a key is never lost, while a real change of the URL (back, forward, a link) replaces
 * the text.
 */
export function useUrlText(
  urlValue: string,
  commit: (value: string) => void,
  delayMs = 0,
): [string, (value: string) => void] {
  const [text, setText] = useState(urlValue);
  const sent = useRef<string[]>([]);
  const commitRef = useRef(commit);
  commitRef.current = commit;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    const at = sent.current.indexOf(urlValue);
    if (at !== -1) {
      sent.current = sent.current.slice(at + 1);
      return;
    }
    sent.current = [];
    setText(urlValue);
  }, [urlValue]);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const change = (value: string) => {
    setText(value);
    if (timer.current) clearTimeout(timer.current);
    const send = () => {
      timer.current = null;
      const v = value.trim();
      if (v === urlValue && sent.current.length === 0) return;
      sent.current.push(v);
      commitRef.current(v);
    };
    if (delayMs > 0) timer.current = setTimeout(send, delayMs);
    else send();
  };
  return [text, change];
}
