export { servicesRequired, unavailable, requirePath, type ServiceGate } from './services.js';
export { freePort, waitForPort } from './ports.js';
export { startPostgres, type PostgresServer } from './postgres.js';
export { storeMatrix, type StoreLocation, type StoreMatrix, type StoreUnderTest } from './stores.js';
export { startZooKeeper, type ZooKeeperServer } from './zookeeper.js';
export { startPrometheus, type PrometheusServer } from './prometheus.js';
export { findChromium, CHROMIUM_ARGS, type ChromiumInstall } from './chromium.js';
export {
  builtGalley,
  galleyCli,
  galleyRequest,
  GALLEY_MAIN,
  GALLEY_WEB_INDEX,
  startGalley,
  type GalleyProcess,
  type StartGalleyOptions,
} from './galley.js';
export { findPodman, TEST_IMAGE, TEST_IMAGE_MARK, type PodmanInstall } from './podman.js';
export { startDockerApi, type DockerApi } from './docker-api.js';
