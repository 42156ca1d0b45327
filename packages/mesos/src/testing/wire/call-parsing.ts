import type { HttpRequest } from './http-server.js';

/**
 * The common front of Mesos' scheduler and executor endpoints: Content-Type checks, JSON parsing
 * and the protobuf "required fields" check, each with the exact text Mesos answers.
 */

/** A message schema: its required fields (declaration order) and the sub-messages to descend into. */
export interface MessageSchema {
  readonly required?: readonly string[];
  readonly fields?: Readonly<Record<string, MessageSchema | readonly [MessageSchema]>>;
}

/** The outcome of reading a call body: the JSON object, or the HTTP error to answer. */
export type ParsedBody =
  | { readonly ok: true; readonly call: Record<string, unknown> }
  | { readonly ok: false; readonly status: number; readonly body: string };

/**
 * Checks Content-Type, parses the JSON body and the required fields of `schema`.
 * Only `application/json` bodies are understood; protobuf bodies are answered as unparseable.
 */
export function readCallBody(request: HttpRequest, schema: MessageSchema): ParsedBody {
  const contentType = request.headers.get('content-type');
  if (contentType === undefined)
    return { ok: false, status: 400, body: "Expecting 'Content-Type' to be present" };
  if (contentType === 'application/x-protobuf') {
    return { ok: false, status: 400, body: 'Failed to parse body into Call protobuf' };
  }
  if (contentType !== 'application/json') {
    return {
      ok: false,
      status: 415,
      body: "Expecting 'Content-Type' of application/json or application/x-protobuf",
    };
  }
  const text = request.body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      status: 400,
      body: `Failed to parse body into JSON: ${jsonSyntaxError(text, error)}`,
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      status: 400,
      body: 'Failed to convert JSON into Call protobuf: Expecting a JSON object',
    };
  }
  const call = value as Record<string, unknown>;
  const missing = missingRequiredFields(call, schema, '');
  if (missing.length > 0) {
    return {
      ok: false,
      status: 400,
      body: `Failed to convert JSON into Call protobuf: Missing required fields: ${missing.join(', ')}`,
    };
  }
  return { ok: true, call };
}

/** picojson's wording: `syntax error at line N near: <rest of the input>`. */
function jsonSyntaxError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const match = /position (\d+)/.exec(message);
  const position = match === null ? text.length : Number(match[1]);
  const line = text.slice(0, position).split('\n').length;
  return `syntax error at line ${line} near: ${text.slice(position)}`;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * Missing required fields in protobuf's order: this message's own required fields first, then
 * those of its set sub-messages, named by path (`accept.operations[0].launch.task_infos[1].name`).
 */
export function missingRequiredFields(
  value: Record<string, unknown>,
  schema: MessageSchema,
  prefix: string,
): string[] {
  // Nearly every call is complete: check without building any path, and name paths only when needed.
  return isComplete(value, schema) ? [] : namedMissingFields(value, schema, prefix);
}

/** True when no required field of `schema` is missing in `value` or its set sub-messages. */
function isComplete(value: Record<string, unknown>, schema: MessageSchema): boolean {
  const required = schema.required;
  if (required !== undefined) {
    for (let i = 0; i < required.length; i++) if (!isSet(value[required[i] as string])) return false;
  }
  const fields = schema.fields;
  if (fields === undefined) return true;
  for (const name in fields) {
    const field = value[name];
    if (field === undefined || field === null || typeof field !== 'object') continue;
    const sub = fields[name] as MessageSchema | readonly [MessageSchema];
    if (Array.isArray(sub)) {
      if (!Array.isArray(field)) continue;
      const itemSchema = sub[0] as MessageSchema;
      for (let i = 0; i < field.length; i++) {
        const item: unknown = field[i];
        if (
          item !== null &&
          typeof item === 'object' &&
          !isComplete(item as Record<string, unknown>, itemSchema)
        )
          return false;
      }
    } else if (!Array.isArray(field) && !isComplete(field as Record<string, unknown>, sub as MessageSchema)) {
      return false;
    }
  }
  return true;
}

function namedMissingFields(value: Record<string, unknown>, schema: MessageSchema, prefix: string): string[] {
  const out: string[] = [];
  for (const name of schema.required ?? []) {
    if (!isSet(value[name])) out.push(`${prefix}${name}`);
  }
  for (const [name, sub] of Object.entries(schema.fields ?? {})) {
    const field = value[name];
    if (!isSet(field)) continue;
    if (Array.isArray(sub)) {
      if (!Array.isArray(field)) continue;
      field.forEach((item, index) => {
        if (item !== null && typeof item === 'object') {
          out.push(
            ...namedMissingFields(
              item as Record<string, unknown>,
              sub[0] as MessageSchema,
              `${prefix}${name}[${index}].`,
            ),
          );
        }
      });
    } else if (typeof field === 'object' && !Array.isArray(field)) {
      out.push(
        ...namedMissingFields(field as Record<string, unknown>, sub as MessageSchema, `${prefix}${name}.`),
      );
    }
  }
  return out;
}

/** `{"value": "x"}` → "x"; anything else → undefined. */
export function idValue(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const inner = (value as { value?: unknown }).value;
  return typeof inner === 'string' ? inner : undefined;
}

/** The object at `value[key]`, or undefined when absent or not an object. */
export function objectField(
  value: Record<string, unknown> | undefined,
  key: string,
): Record<string, unknown> | undefined {
  const field = value?.[key];
  return field !== null && typeof field === 'object' && !Array.isArray(field)
    ? (field as Record<string, unknown>)
    : undefined;
}

/** The array at `value[key]`, or an empty array. */
export function arrayField(value: Record<string, unknown> | undefined, key: string): unknown[] {
  const field = value?.[key];
  return Array.isArray(field) ? field : [];
}

/** A number (or numeric string, as Mesos accepts) at `value[key]`, or undefined. */
export function numberField(value: Record<string, unknown> | undefined, key: string): number | undefined {
  const field = value?.[key];
  if (typeof field === 'number') return field;
  if (typeof field === 'string' && field.trim() !== '' && Number.isFinite(Number(field)))
    return Number(field);
  return undefined;
}

/** True when the `Accept` header allows `mediaType` (absent = anything; q=0 refuses). */
export function acceptsMediaType(request: HttpRequest, mediaType: string): boolean {
  const accept = request.headers.get('accept');
  if (accept === undefined || accept.trim() === '') return true;
  const [type, subtype] = mediaType.split('/');
  return accept.split(',').some((part) => {
    const [range = '', ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) return false;
    const [rangeType, rangeSubtype] = range.trim().toLowerCase().split('/');
    return (
      (rangeType === '*' && rangeSubtype === '*') ||
      (rangeType === type && (rangeSubtype === '*' || rangeSubtype === subtype))
    );
  });
}
