/** Building a scheduler from one options object. */
import { MesosHttpClient } from '../http/client.js';
import { createMasterDetector } from '../master/create.js';
import type { MasterDetector } from '../master/detector.js';
import { resolveSchedulerOptions, type SchedulerOptions } from './options.js';
import { MesosScheduler } from './scheduler.js';

/**
 * Creates a scheduler client (not started: call `start()`). Throws SchedulerError
 * MESOS_BAD_OPTIONS for invalid options and MasterDetectionError for a malformed master spec.
 */
export function createScheduler<M = never>(options: SchedulerOptions<M>): MesosScheduler<M> {
  const resolved = resolveSchedulerOptions(options);
  const http = new MesosHttpClient({
    credentials: resolved.credentials,
    tls: resolved.tls,
    requestTimeoutMs: resolved.requestTimeoutMs,
  });
  const given = resolved.master;
  const isDetector = typeof given === 'object' && given !== null && 'detect' in given;
  const detector: MasterDetector = isDetector
    ? (given as MasterDetector)
    : createMasterDetector(given as string | readonly string[], {
        scheme: resolved.scheme,
        tls: resolved.tls,
      });
  return new MesosScheduler<M>(resolved, http, detector, !isDetector);
}
