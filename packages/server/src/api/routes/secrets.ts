import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { SECRET_NAME_PATTERN } from '../../secrets/references.js';
import { MAX_SECRET_BYTES, NOT_CONFIGURED, SecretStoreError } from '../../secrets/secret-store.js';
import type { RoutesOptions } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { Errors, Text } from '../schemas/common.js';

const Name = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: SECRET_NAME_PATTERN,
  description:
    "1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit; env values name it `secret:NAME`.",
});
const SecretEntry = Type.Object({
  name: Type.String({ maxLength: 128 }),
  updated_at: Type.String({ description: 'ISO 8601' }),
});

/** A store refusal as the API's error: not configured → 409; too many → 422. */
function apiError(err: unknown): unknown {
  if (!(err instanceof SecretStoreError)) return err;
  if (err.code === 'SECRETS_NOT_CONFIGURED') return new ApiError(409, err.code, err.message);
  if (err.code === 'TOO_MANY_SECRETS') return new ApiError(422, err.code, err.message);
  return err;
}

/**
 * Galley-stored secrets: set (the value in the body), list (names and update times, never values)
 * and delete. Env values reference them as `secret:NAME`; they are resolved only at launch.
 */
export const secretRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  const hide = !documented;
  const tags = ['secrets'];
  const store = () => {
    if (!deps.secrets) throw new ApiError(409, 'SECRETS_NOT_CONFIGURED', NOT_CONFIGURED);
    return deps.secrets;
  };

  app.get(
    '/secrets',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'Names of the secrets Galley stores (never their values)',
        response: {
          200: Type.Object({ total: Type.Integer(), secrets: Type.Array(SecretEntry) }),
          ...Errors,
        },
      },
    },
    async () => {
      const list = await store()
        .list()
        .catch((err: unknown) => Promise.reject(apiError(err)));
      return {
        total: list.length,
        secrets: list.map((s) => ({ name: s.name, updated_at: new Date(s.updatedAt).toISOString() })),
      };
    },
  );

  app.put(
    '/secrets/:name',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'Create or replace a secret (stored encrypted; the value is never answered)',
        params: Type.Object({ name: Name }),
        body: Type.Object(
          {
            value: Text(MAX_SECRET_BYTES, {
              description: `The value: at most ${MAX_SECRET_BYTES} bytes of UTF-8.`,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: SecretEntry, 201: SecretEntry, ...Errors },
      },
    },
    async (req, reply) => {
      if (Buffer.byteLength(req.body.value, 'utf8') > MAX_SECRET_BYTES)
        throw new ApiError(422, 'VALIDATION_FAILED', `value: at most ${MAX_SECRET_BYTES} bytes of UTF-8`, {
          value: `at most ${MAX_SECRET_BYTES} bytes of UTF-8`,
        });
      const done = await store()
        .set(req.params.name, req.body.value)
        .catch((err: unknown) => Promise.reject(apiError(err)));
      reply.code(done.created ? 201 : 200);
      return { name: req.params.name, updated_at: new Date(done.updatedAt).toISOString() };
    },
  );

  app.delete(
    '/secrets/:name',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'Delete a secret (runs that reference it fail at their next launch)',
        params: Type.Object({ name: Name }),
        response: { 200: Type.Object({ deleted: Type.Boolean() }), ...Errors },
      },
    },
    async (req) => {
      const removed = await store()
        .remove(req.params.name)
        .catch((err: unknown) => Promise.reject(apiError(err)));
      if (!removed) throw notFound('secret', req.params.name);
      return { deleted: true };
    },
  );
};
