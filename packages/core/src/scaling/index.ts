export * from './pipeline-autoscaling.js';
export * from './pipeline-drain.js';
export * from './cluster-capacity.js';
