import { useEffect, useRef } from 'react';

/** True when the key press belongs to something the user types into, or to an open dialog. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(type);
  }
  return false;
}

/**
 * Calls `handler` when `key` (a KeyboardEvent.key, e.g. `/` or `?`) is pressed anywhere on the
 * page, except while typing in a field, with Ctrl/Alt/Meta held, or while a modal dialog is open.
 */
export function useShortcut(key: string, handler: (event: KeyboardEvent) => void, enabled = true): void {
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== key || event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented)
        return;
      if (isTypingTarget(event.target) || document.querySelector('dialog[open]')) return;
      handlerRef.current(event);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [key, enabled]);
}
