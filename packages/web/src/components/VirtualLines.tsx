import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';

/** Lines rendered above and below the visible ones, so fast scrolling shows no blank band. */
const OVERSCAN = 20;

export interface VirtualLinesProps {
  count: number;
  /** Height of every line in px (the CSS must agree). */
  lineHeight: number;
  renderLine: (index: number) => ReactNode;
  /** Keep the view at the bottom as lines are added. */
  follow: boolean;
  /** Called after a scroll with whether the view now shows the last line, and the first visible line. */
  onScrolled?: (atBottom: boolean, firstLine: number) => void;
  /** Scroll so this line is in view (centred); `nonce` makes repeated requests count. */
  scrollTo?: { line: number; nonce: number } | null;
  label: string;
  className?: string;
  /** Height of the viewport in px. */
  height: number;
}

/**
 * A scrolling list of equal-height lines that only puts the visible lines (plus OVERSCAN) in the
 * DOM, so a 100,000-line log scrolls as lightly as a 100-line one. The viewport is focusable, so
 * arrow keys, Page Up/Down, Home and End scroll it from the keyboard.
 */
export function VirtualLines(props: VirtualLinesProps) {
  const { count, lineHeight, renderLine, follow, onScrolled, scrollTo, label, className, height } = props;
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(480);
  const frame = useRef(0);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setViewport(el.clientHeight);
    const observer = new ResizeObserver(() => setViewport(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const el = ref.current;
    if (follow && el) {
      el.scrollTop = el.scrollHeight;
      setScrollTop(el.scrollTop);
    }
  }, [count, follow, viewport]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!scrollTo || !el) return;
    const top = scrollTo.line * lineHeight;
    if (top < el.scrollTop || top + lineHeight > el.scrollTop + el.clientHeight) {
      el.scrollTop = Math.max(0, top - el.clientHeight / 2);
      setScrollTop(el.scrollTop);
    }
  }, [scrollTo, lineHeight]);

  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const onScroll = () => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => {
      const el = ref.current;
      if (!el) return;
      setScrollTop(el.scrollTop);
      onScrolled?.(
        el.scrollTop + el.clientHeight >= el.scrollHeight - lineHeight,
        Math.floor(el.scrollTop / lineHeight),
      );
    });
  };

  const first = Math.max(0, Math.floor(scrollTop / lineHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / lineHeight) + OVERSCAN);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) rows.push(renderLine(i));

  return (
    <div
      ref={ref}
      className={className}
      style={{ height }}
      onScroll={onScroll}
      tabIndex={0}
      role="region"
      aria-label={label}
      data-line-count={count}
    >
      <div style={{ height: count * lineHeight, position: 'relative' }}>
        <div
          className="virtual-window"
          style={{ position: 'absolute', top: first * lineHeight, left: 0, minWidth: '100%' }}
        >
          {rows}
        </div>
      </div>
    </div>
  );
}
