export * from './fair-share.js';
export * from './running-totals.js';
