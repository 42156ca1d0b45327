/** Finding the leading Mesos master: static list, ZooKeeper, DNS. */
export {
  MasterDetectionError,
  type MasterDetector,
  type MasterLocation,
  type LeaderChange,
  type MasterDetectionErrorCode,
} from './detector.js';
export { createStaticDetector, type StaticDetectorOptions } from './static.js';
export { createDnsDetector, type DnsDetectorOptions, type HostLookup } from './dns.js';
export { createZooKeeperDetector, type ZooKeeperDetectorOptions } from './zookeeper.js';
export { parseZooKeeperUrl, parseMasterNode, type ZooKeeperUrl } from './zk-url.js';
export { masterInfoUrl, decodePackedIPv4 } from './master-info.js';
export { probeLeader, type ProbeResult } from './probe.js';
export { createMasterDetector, type MasterDetectorOptions } from './create.js';
