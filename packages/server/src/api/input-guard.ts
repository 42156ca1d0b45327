import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, BAD_CHARS_PROBLEM } from './errors.js';
import { hasBadChars } from './schemas/common.js';

/**
 * A net under the schemas: after validation, any string of the body, the query or the path
 * parameters, or any key of an object in them, that holds NUL or a lone surrogate is a 400 naming
 * it. Every string field's schema refuses them already (NO_NUL); this catches a field a schema
 * leaves free, so that no such string reaches the store (PostgreSQL refuses both).
 */
export function installInputGuard(app: FastifyInstance): void {
  app.addHook('preHandler', async (request: FastifyRequest) => {
    for (const [part, value] of [
      ['params', request.params],
      ['query', request.query],
      ['body', request.body],
    ] as const) {
      const bad = badStringPath(value);
      if (bad === null) continue;
      const field = [part, ...bad.path].join('.').slice(0, 200);
      const problem = bad.key ? `is not a valid name: ${BAD_CHARS_PROBLEM}` : BAD_CHARS_PROBLEM;
      throw new ApiError(400, 'VALIDATION_FAILED', `invalid request: ${field} ${problem}`, {
        [field]: problem,
      });
    }
  });
}

/** A place in a value: its key and the place of its parent. */
interface Place {
  key: string;
  up: Place | null;
}

const pathOf = (place: Place | null): string[] => {
  const path: string[] = [];
  for (let p = place; p; p = p.up) path.unshift(p.key);
  return path;
};

/** The path of the first string (or object key, `key: true`) holding NUL or a lone surrogate; null when none. */
export function badStringPath(root: unknown): { path: string[]; key: boolean } | null {
  const stack: { value: unknown; place: Place | null }[] = [{ value: root, place: null }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, place } = item;
    if (typeof value === 'string') {
      if (hasBadChars(value)) return { path: pathOf(place), key: false };
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, place: { key: String(i), up: place } }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (hasBadChars(k)) return { path: pathOf({ key: k, up: place }), key: true };
        stack.push({ value: v, place: { key: k, up: place } });
      }
    }
  }
  return null;
}
