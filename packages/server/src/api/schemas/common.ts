import { type SchemaOptions, type Static, type StringOptions, type TSchema, Type } from '@sinclair/typebox';

// Schemas import nothing but TypeBox: this folder is the `@galley/server/api` subpath, which the
// web UI and the CLI import for their types without pulling in any server code.

/**
 * The pattern of a string without NUL (U+0000) and without a lone surrogate (U+D800 to U+DFFF not
 * in a pair): PostgreSQL cannot store NUL in text or JSON, nor a lone surrogate in JSON, and no
 * program argument, environment value or path can hold either. (JSON Schema patterns are Unicode
 * regular expressions: a character beyond U+FFFF, a surrogate pair, is one character and passes.)
 */
export const NO_NUL = '^[^\\u0000\\ud800-\\udfff]*$';

/** The characters NO_NUL refuses, for patterns of their own: `[^${BAD_CHARS}…]`. */
export const BAD_CHARS = '\\u0000\\ud800-\\udfff';

/** True when `s` holds NUL or a lone surrogate (what NO_NUL refuses). */
const BAD_CHARS_RE = new RegExp(`[${BAD_CHARS}]`, 'u');
export const hasBadChars = (s: string): boolean => BAD_CHARS_RE.test(s);

/** A string of at most `maxLength` characters that holds no NUL nor lone surrogate (`pattern` is NO_NUL). */
export const Text = (maxLength: number, options: Omit<StringOptions, 'maxLength' | 'pattern'> = {}) =>
  Type.String({ ...options, maxLength, pattern: NO_NUL });

/**
 * The longest id a path can carry (definition and run ids, aliases, pipeline ids), in characters
 * once percent-decoded. The HTTP router's `maxParamLength` is this: a longer path segment is a
 * 414, a shorter one reaches its route, whose schema judges it. Every id a route creates is shorter.
 */
export const MAX_PATH_ID_LENGTH = 256;

/** Deepest nesting of arrays and objects a JSON body may have (the deepest schema needs 6). */
export const MAX_JSON_DEPTH = 32;

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
    name: Type.String({
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      minLength: 1,
      maxLength: 256,
      description: 'Letters, digits and `_`, not starting with a digit; at most 256 characters.',
    }),
    value: Text(131_072, { description: 'At most 131072 characters.' }),
  },
  { additionalProperties: false },
);

export type EnvVarBody = Static<typeof EnvVarSchema>;

export const EnvList = Type.Array(EnvVarSchema, {
  maxItems: 1000,
  description: 'Environment variables `[{name, value}]` (at most 1000).',
});

/** A nullable field. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** ISO 8601 time, or null when not yet. */
export const Time = Nullable(Type.String({ format: 'date-time' }));

export const SortOrder = Type.Union([Type.Literal('asc'), Type.Literal('desc')]);

/** Shared paging parameters; `limit` defaults to 1024 (flotilla's) and is capped at MAX_LIMIT. */
export const MAX_LIMIT = 10_000;
/** The largest `limit` and `offset` a query may give (a limit above MAX_LIMIT is answered with MAX_LIMIT). */
export const MAX_PAGING = 1_000_000_000;
export const PagingQuery = {
  limit: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_PAGING,
      default: 1024,
      description: `Page size, 0 to ${MAX_PAGING} (above ${MAX_LIMIT}: ${MAX_LIMIT}).`,
    }),
  ),
  offset: Type.Optional(
    Type.Integer({ minimum: 0, maximum: MAX_PAGING, default: 0, description: `0 to ${MAX_PAGING}.` }),
  ),
  order: Type.Optional(SortOrder),
};

/** A filter's value in a query string: at most 1000 characters, no NUL nor lone surrogate. */
export const QueryText = (description?: string) => Text(1000, description ? { description } : {});

export const Errors = {
  400: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  422: ErrorBody,
};

/** A resource id in a path (definition or run id, alias). */
export const Id = Text(MAX_PATH_ID_LENGTH, {
  minLength: 1,
  description: `1 to ${MAX_PATH_ID_LENGTH} characters.`,
});

/** `asc` or `desc`. */
export type SortOrder = Static<typeof SortOrder>;
