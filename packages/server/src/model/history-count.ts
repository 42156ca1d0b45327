/**
 * How many matching runs past a page's offset `GET /history` counts for its `total`: when no more
 * match, the total is exact; when more do, the total is `offset + HISTORY_COUNT_CAP` and the answer
 * says `total_exact: false` (`?exact_total=true` counts them all). An exact count of a large history
 * reads every matching run: 1,100,000 for the newest page at bench:scale, most of its p99 of 515 ms.
 * Here (not in the store) so the API schemas and the web read it without the store's imports.
 */
export const HISTORY_COUNT_CAP = 10_000;
