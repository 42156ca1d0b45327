import { existsSync } from 'node:fs';

/**
 * Whether a missing system service is an error. `.ci/run` installs PostgreSQL, ZooKeeper and
 * Chromium and sets GALLEY_REQUIRE_SERVICES=1, so in CI a test can never pass by skipping.
 */
export function servicesRequired(): boolean {
  return process.env['GALLEY_REQUIRE_SERVICES'] === '1';
}

/** A service that a test suite needs: either available, or the reason it is not. */
export type ServiceGate<T> = { available: true; service: T } | { available: false; reason: string };

/**
 * Turns "not installed" into a printed skip notice, or into an error when services are required.
 * Use with `describe.runIf(gate.available)`.
 */
export function unavailable<T>(what: string, reason: string): ServiceGate<T> {
  const message = `${what}: ${reason}`;
  if (servicesRequired()) {
    throw new Error(`${message} (GALLEY_REQUIRE_SERVICES=1, so this is a failure, not a skip)`);
  }
  console.warn(`SKIPPED ${message}`);
  return { available: false, reason: message };
}

/**
 * A file or directory a suite needs that is not a service: a build output (`dist/`), recordings.
 * Missing, it is a printed skip, or a failure under GALLEY_REQUIRE_SERVICES=1, like a service.
 * `missing` says how to get it.
 */
export function requirePath(what: string, path: string, missing: string): ServiceGate<string> {
  if (existsSync(path)) return { available: true, service: path };
  return unavailable(what, `${path} is missing (${missing})`);
}
