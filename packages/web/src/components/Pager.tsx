export interface PagerProps {
  total: number;
  limit: number;
  offset: number;
  onOffset: (offset: number) => void;
  onLimit: (limit: number) => void;
  /** Page sizes to offer. */
  sizes?: number[];
}

/** "26–50 of 340" with previous/next and a page size. */
export function Pager({ total, limit, offset, onOffset, onLimit, sizes = [25, 50, 100] }: PagerProps) {
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(total, offset + limit);
  return (
    <nav className="pager" aria-label="Pages">
      <span aria-live="polite">
        {first}–{last} of {total}
      </span>
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
          disabled={offset + limit >= total}
          onClick={() => onOffset(offset + limit)}
        >
          Next →
        </button>
      </div>
    </nav>
  );
}
