import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LOG_LEVELS, OPTIONS, type OptionSpec } from './options.js';

// The settings as TypeBox schemas, built from the OPTIONS table: one schema per setting's value
// (what a flag, an env var or the config file must give) and the config file's shape (an object
// of those, each optional, no other key). Checked with TypeBox's Value, as the API checks bodies
// with the same kind of schema.

/** `host:port` (port 0 = any free port; the port's range is checked with the rest of the config). */
const ADDRESS_PATTERN = '^[^\\s]+:\\d{1,5}$';

const oneOf = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** The schema of one setting's value, once numeric text is a number (see `coerceOption`). */
export function optionSchema(spec: OptionSpec): TSchema {
  const description = spec.description;
  const bounds = {
    ...(spec.min === undefined ? {} : { minimum: spec.min }),
    ...(spec.max === undefined ? {} : { maximum: spec.max }),
  };
  switch (spec.type) {
    case 'integer':
      return Type.Integer({ ...bounds, description });
    case 'number':
      return Type.Number({ ...bounds, description });
    case 'level':
      return oneOf(LOG_LEVELS);
    case 'address':
      return Type.String({ pattern: ADDRESS_PATTERN, description: 'host:port' });
    case 'string':
      return spec.choices ? oneOf(spec.choices) : Type.String({ minLength: 1, description });
  }
}

/** Whether a setting may be `null` in the config file: those unset by default. */
const isNullable = (spec: OptionSpec): boolean => spec.default() === null;

/**
 * The JSON config file: an object with any of the settings' keys, each with its value's schema
 * (`null` too for a setting that is unset by default); no other key.
 */
export function configFileSchema(options: readonly OptionSpec[] = OPTIONS): TObject {
  const properties: Record<string, TSchema> = {};
  for (const spec of options) {
    const value = optionSchema(spec);
    properties[spec.key] = Type.Optional(isNullable(spec) ? Type.Union([value, Type.Null()]) : value);
  }
  return Type.Object(properties, { additionalProperties: false });
}

/**
 * A raw value (a flag's or env var's text, or a config file's JSON value) in its setting's type:
 * text of a number becomes the number (`''` and text that is no number become NaN, which no
 * schema takes); anything else is kept as it is, for the schema to judge.
 */
export function coerceOption(spec: OptionSpec, raw: unknown): unknown {
  if ((spec.type === 'integer' || spec.type === 'number') && typeof raw === 'string')
    return raw.trim() === '' ? NaN : Number(raw);
  return raw;
}

/** What `schema` takes, in words: `an integer ≥ 1`, `one of local, mesos`, `host:port`. */
function expected(schema: TSchema): string {
  if (Array.isArray(schema.anyOf)) {
    const branches = schema.anyOf as TSchema[];
    if (branches.every((b) => 'const' in b))
      return `one of ${branches.map((b) => String(b.const)).join(', ')}`;
    return branches.map(expected).join(' or ');
  }
  const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  const range =
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` ≥ ${min}`
        : max !== undefined
          ? ` ≤ ${max}`
          : '';
  switch (schema.type) {
    case 'integer':
      return `an integer${range}`;
    case 'number':
      return `a number${range}`;
    case 'null':
      return 'null';
    case 'string':
      return schema.pattern ? String(schema.description) : 'a non-empty string';
    default:
      return 'a valid value';
  }
}

/** Why `value` is not a value of `schema`, in words (`expected an integer ≥ 1`); null when it is one. */
export function optionProblem(schema: TSchema, value: unknown): string | null {
  return Value.Check(schema, value) ? null : `expected ${expected(schema)}`;
}

/**
 * The problems of a config file's content (its values already coerced), one line each, naming
 * the key: `unknown setting "x"` or `localCpus (config file): expected a number ≥ 0.001, got "lots"`.
 */
export function configFileProblems(
  path: string,
  file: Record<string, unknown>,
  raw: Record<string, unknown>,
  schema: TObject = configFileSchema(),
): { problems: string[]; badKeys: Set<string> } {
  const problems: string[] = [];
  const badKeys = new Set<string>();
  for (const error of Value.Errors(schema, file)) {
    const key = error.path.split('/')[1] ?? '';
    if (badKeys.has(key)) continue;
    badKeys.add(key);
    const property = schema.properties[key];
    if (!property) problems.push(`config file ${path}: unknown setting "${key}"`);
    else
      problems.push(`${key} (config file): expected ${expected(property)}, got ${JSON.stringify(raw[key])}`);
  }
  return { problems, badKeys };
}
