import { type SchemaOptions, type Static, type StringOptions, type TSchema, Type } from '@sinclair/typebox';

// Schemas import nothing but TypeBox: this folder is the `@galley/server/api` subpath, which the
// web UI and the CLI import for their types without pulling in any server code.

/**
 * The pattern of a string without NUL (U+0000): PostgreSQL cannot store NUL in text or JSON, and
 * no program argument, environment value or path can hold one.
 */
export const NO_NUL = '^[^\\u0000]*$';

/** A string of at most `maxLength` characters that holds no NUL (`pattern` is NO_NUL). */
export const Text = (maxLength: number, options: Omit<StringOptions, 'maxLength' | 'pattern'> = {}) =>
  Type.String({ ...options, maxLength, pattern: NO_NUL });

/**
 * One of a few strings, as a JSON Schema `enum` (one error naming the allowed values, not one per
 * value as a union of literals gives).
 */
export const StringEnum = <const T extends readonly string[]>(values: T, options: SchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });

/** Bounds of a map's keys: a name of `minLength`…`maxLength` characters matching `pattern`. */
export interface MapKeys {
  maxLength: number;
  pattern: string;
  minLength?: number;
}

/**
 * A JSON object used as a map from names to `value`s, with bounded names (`propertyNames`) and a
 * bounded number of entries. (TypeBox's Record keys by `patternProperties`, which lets a name that
 * does not match through unchecked.)
 */
export const StringMap = <V extends TSchema>(
  value: V,
  keys: MapKeys,
  options: SchemaOptions & { maxProperties: number; minProperties?: number },
) =>
  Type.Unsafe<Record<string, Static<V>>>({
    ...options,
    type: 'object',
    propertyNames: { type: 'string', minLength: keys.minLength ?? 1, ...keys },
    additionalProperties: value,
  });

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

export type EnvVarBody = Static<typeof EnvVarSchema>;

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

/** `asc` or `desc`. */
export type SortOrder = Static<typeof SortOrder>;
