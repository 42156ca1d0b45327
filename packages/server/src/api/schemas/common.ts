import { Type, type Static } from '@sinclair/typebox';

/** Every error answer: a stable `code`, a readable `message`, and per-field problems for bad input. */
export const ErrorBody = Type.Object({
  code: Type.String({ description: 'Stable machine-readable code, e.g. VALIDATION_FAILED, NOT_FOUND.' }),
  message: Type.String(),
  fields: Type.Optional(
    Type.Record(Type.String(), Type.String(), { description: 'Problem per field path, for bad input.' }),
  ),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** `{name, value}`, as flotilla writes environment variables. */
export const EnvVarSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 256 }),
    value: Type.String({ maxLength: 131072 }),
  },
  { additionalProperties: false },
);

export const EnvList = Type.Array(EnvVarSchema, { maxItems: 1000 });

/** A nullable field. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** ISO 8601 time, or null when not yet. */
export const Time = Nullable(Type.String({ format: 'date-time' }));

export const SortOrder = Type.Union([Type.Literal('asc'), Type.Literal('desc')]);

/** Shared paging parameters; `limit` defaults to 1024 (flotilla's) and is capped at MAX_LIMIT. */
export const MAX_LIMIT = 10_000;
export const PagingQuery = {
  limit: Type.Optional(
    Type.Integer({ minimum: 0, default: 1024, description: `Page size (capped at ${MAX_LIMIT}).` }),
  ),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  order: Type.Optional(SortOrder),
};

export const Errors = {
  400: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  422: ErrorBody,
};

/** A resource id in a path (definition or run id). */
export const Id = Type.String({ minLength: 1, maxLength: 256 });
