/**
 * Secret references in environment values. A value is a reference when it starts with `vault:`
 * or `secret:`; Galley stores and shows the reference, never what it stands for, and resolves it
 * only when an attempt is handed to its backend (see resolver.ts).
 *
 *  - `vault:PATH#KEY`: the field KEY of the Vault KV v2 secret at PATH (under the configured mount).
 *  - `secret:NAME`: a secret stored by Galley (`PUT /api/v1/secrets/NAME`).
 *
 * This module is pure (no I/O), shared by the API's checks and the resolver.
 */

/** A parsed reference. `text` is the reference as written (what is stored and shown). */
export type SecretReference =
  { kind: 'vault'; path: string; key: string; text: string } | { kind: 'secret'; name: string; text: string };

/** Names of Galley secrets: what `secret:NAME` and `/api/v1/secrets/{name}` accept. */
export const SECRET_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$';
const SECRET_NAME = new RegExp(SECRET_NAME_PATTERN);
/** One segment of a Vault path: no `/`, `#`, whitespace or control character, not `.` or `..`. */
const VAULT_SEGMENT = /^[A-Za-z0-9_.@+=,-]{1,128}$/;
const VAULT_KEY = /^[^\s#/\\]{1,256}$/;

/** True when the value is meant as a reference (it starts with one of the prefixes). */
export function looksLikeReference(value: string): boolean {
  return value.startsWith('vault:') || value.startsWith('secret:');
}

/**
 * Parses a reference: the reference, `null` when the value is a plain value, or a string saying
 * what is wrong with a value that starts like a reference but is not one.
 */
export function parseReference(value: string): SecretReference | null | string {
  if (value.startsWith('secret:')) {
    const name = value.slice('secret:'.length);
    if (!SECRET_NAME.test(name))
      return `"${value.slice(0, 160)}" is not a secret reference: secret:NAME needs a name of 1 to 128 letters, digits, '_', '.' or '-' (starting with a letter or digit)`;
    return { kind: 'secret', name, text: value };
  }
  if (value.startsWith('vault:')) {
    const rest = value.slice('vault:'.length);
    const cut = rest.lastIndexOf('#');
    const path = cut < 0 ? '' : rest.slice(0, cut);
    const key = cut < 0 ? '' : rest.slice(cut + 1);
    const segments = path.split('/');
    const pathOk =
      path.length > 0 &&
      path.length <= 512 &&
      segments.every((s) => VAULT_SEGMENT.test(s) && s !== '.' && s !== '..');
    if (!pathOk || !VAULT_KEY.test(key))
      return `"${value.slice(0, 160)}" is not a Vault reference: write vault:PATH#KEY (PATH: segments of letters, digits and _.@+=,- separated by '/', at most 512 characters; KEY: 1 to 256 characters without '#', '/' or spaces)`;
    return { kind: 'vault', path, key, text: value };
  }
  return null;
}

/** One problem of a request's environment: the field path (as the API names fields) and the words. */
export interface ReferenceProblem {
  field: string;
  message: string;
}

/** Deepest a request body is walked looking for environments (pipeline specs nest a few levels). */
const MAX_DEPTH = 8;

/**
 * The bad references in a request body: every `env: [{name, value}]` list (definitions,
 * executes) and `environment: {NAME: value}` map (pipeline specs and their processes), at any
 * depth up to MAX_DEPTH. Fields are named as `env[2].value` / `processes.web.environment.DB_PASS`.
 */
export function referenceProblems(body: unknown): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const check = (field: string, value: unknown) => {
    if (typeof value !== 'string' || !looksLikeReference(value)) return;
    const parsed = parseReference(value);
    if (typeof parsed === 'string') problems.push({ field, message: parsed });
  };
  const walk = (node: unknown, path: string, depth: number) => {
    if (depth > MAX_DEPTH || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
      return;
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      const here = path ? `${path}.${key}` : key;
      if (key === 'env' && Array.isArray(value))
        value.forEach((entry, i) => {
          if (entry && typeof entry === 'object')
            check(`${here}[${i}].value`, (entry as { value?: unknown }).value);
        });
      else if (key === 'environment' && value && typeof value === 'object' && !Array.isArray(value))
        for (const [name, v] of Object.entries(value as Record<string, unknown>)) check(`${here}.${name}`, v);
      else walk(value, here, depth + 1);
    }
  };
  walk(body, '', 0);
  return problems;
}

/** The references among env values, deduplicated by their text. */
export function referencesIn(values: Iterable<string>): SecretReference[] {
  const found = new Map<string, SecretReference>();
  for (const value of values) {
    if (!looksLikeReference(value)) continue;
    const parsed = parseReference(value);
    if (parsed && typeof parsed !== 'string') found.set(parsed.text, parsed);
  }
  return [...found.values()];
}
