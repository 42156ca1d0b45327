/**
 * A history page's total as `galley runs` prints it: "10000+" when the server counted only up to
 * its bound (`total_exact: false`, a large history), the number as it is otherwise (or from a
 * server that does not say).
 */
export function historyTotal(page: { total: number; total_exact?: boolean }): string {
  return `${page.total}${page.total_exact === false ? '+' : ''}`;
}
