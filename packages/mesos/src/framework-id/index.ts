/** Persisting the framework id. */
export { createFileFrameworkIdStore, createMemoryFrameworkIdStore, type FrameworkIdStore } from './store.js';
