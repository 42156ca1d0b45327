import { hasNextPage, pageSummary } from './page-summary.js';

export interface PagerProps {
  total: number;
  /** False: `total` is a lower bound (the server counted only so far): "of 10,000+", next stays enabled. */
  totalExact?: boolean;
  /** What is counted, after the total ("runs"). */
  noun?: string;
  limit: number;
  offset: number;
  onOffset: (offset: number) => void;
  onLimit: (limit: number) => void;
  /** Page sizes to offer. */
  sizes?: number[];
}

/** "26–50 of 340" with previous/next and a page size. */
export function Pager({
  total,
  totalExact = true,
  noun,
  limit,
  offset,
  onOffset,
  onLimit,
  sizes = [25, 50, 100],
}: PagerProps) {
  const hasNext = hasNextPage(total, totalExact, limit, offset);
  return (
    <nav className="pager" aria-label="Pages">
      <span aria-live="polite">{pageSummary(total, totalExact, limit, offset, noun)}</span>
      <div className="row">
        <label className="row">
          <span>Per page</span>
          <select className="select" value={limit} onChange={(e) => onLimit(Number(e.target.value))}>
            {sizes.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="btn btn-sm"
          disabled={offset === 0}
          onClick={() => onOffset(Math.max(0, offset - limit))}
        >
          ← Previous
        </button>
        <button
          type="button"
          className="btn btn-sm"
          disabled={!hasNext}
          onClick={() => onOffset(offset + limit)}
        >
          Next →
        </button>
      </div>
    </nav>
  );
}
