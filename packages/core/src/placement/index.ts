export * from './model.js';
export * from './constraints.js';
export { fromThousandths, normalizeRanges, toThousandths } from './fit.js';
export * from './place.js';
