export { servicesRequired, unavailable, type ServiceGate } from './services.js';
export { freePort, waitForPort } from './ports.js';
export { startPostgres, type PostgresServer } from './postgres.js';
export { startZooKeeper, type ZooKeeperServer } from './zookeeper.js';
export { findChromium, CHROMIUM_ARGS, type ChromiumInstall } from './chromium.js';
