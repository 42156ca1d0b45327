// The pager's words and its Next button, apart from the component so unit tests read them.

/** "26–50 of 340 runs", or "1–50 of 10,000+ runs" when the total is a lower bound. */
export function pageSummary(total: number, totalExact: boolean, limit: number, offset: number, noun = '') {
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(total, offset + limit);
  const of = `${total.toLocaleString()}${totalExact ? '' : '+'}`;
  return `${first.toLocaleString()}–${last.toLocaleString()} of ${of}${noun ? ` ${noun}` : ''}`;
}

/** Whether a page follows; an inexact total means more match than were counted past this page. */
export function hasNextPage(total: number, totalExact: boolean, limit: number, offset: number) {
  return !totalExact || offset + limit < total;
}
