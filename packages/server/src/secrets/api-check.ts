import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../api/errors.js';
import { referenceProblems } from './references.js';

/**
 * Refuses, after schema validation, a request body whose environment holds a malformed secret
 * reference (a value starting with `vault:` or `secret:` that is not `vault:PATH#KEY` /
 * `secret:NAME`): 422 naming each entry (`env[2].value`, `processes.web.environment.DB`). Well
 * formed references are stored as they are; they are resolved only at launch.
 */
export function installSecretReferenceCheck(app: FastifyInstance): void {
  app.addHook('preHandler', async (request: FastifyRequest) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'DELETE') return;
    const problems = referenceProblems(request.body);
    if (problems.length === 0) return;
    const fields = Object.fromEntries(problems.slice(0, 20).map((p) => [p.field, p.message]));
    const first = problems[0]!;
    throw new ApiError(
      422,
      'INVALID_SECRET_REFERENCE',
      `invalid request: ${first.field}: ${first.message}`,
      fields,
    );
  });
}
