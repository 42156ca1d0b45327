import { requestJson } from './http.js';
import type { Definition, DefinitionInput, DefinitionPage, ExecuteInput, Run } from './types.js';

const BASE = '/api/v1/task';

/** How many definitions one list request asks for; the list loads every page. */
export const DEFINITION_PAGE_SIZE = 500;

/**
 * Every definition, alias order, reading page after page until `total` is reached. The UI
 * searches them in the browser (by alias substring, group and tag), so a search is instant.
 */
export async function listAllDefinitions(signal?: AbortSignal): Promise<Definition[]> {
  const all: Definition[] = [];
  for (;;) {
    const page = await requestJson<DefinitionPage>('GET', BASE, {
      query: { limit: DEFINITION_PAGE_SIZE, offset: all.length, sort_by: 'alias', order: 'asc' },
      signal,
    });
    all.push(...page.definitions);
    if (page.definitions.length === 0 || all.length >= page.total) return all;
  }
}

/** The definition with this alias; ApiError 404 when there is none. */
export function getDefinitionByAlias(alias: string, signal?: AbortSignal): Promise<Definition> {
  return requestJson<Definition>('GET', `${BASE}/alias/${encodeURIComponent(alias)}`, { signal });
}

/** Creates a definition; ApiError 400/409/422 with `fields` when the input is refused. */
export function createDefinition(input: DefinitionInput): Promise<Definition> {
  return requestJson<Definition>('POST', BASE, { body: input });
}

/** Updates a definition by id; answers it as stored. */
export function updateDefinition(definitionId: string, input: DefinitionInput): Promise<Definition> {
  return requestJson<Definition>('PUT', `${BASE}/${encodeURIComponent(definitionId)}`, { body: input });
}

/** Deletes a definition; its runs keep their copy. */
export async function deleteDefinition(definitionId: string): Promise<void> {
  await requestJson<unknown>('DELETE', `${BASE}/${encodeURIComponent(definitionId)}`);
}

/** Runs the definition with this alias; answers the new (or, for a seen idempotence key, earlier) run. */
export function executeByAlias(alias: string, input: ExecuteInput): Promise<Run> {
  return requestJson<Run>('PUT', `${BASE}/alias/${encodeURIComponent(alias)}/execute`, { body: input });
}

/** Distinct group names known to the server. */
export async function listGroups(signal?: AbortSignal): Promise<string[]> {
  const answer = await requestJson<{ groups?: string[] } | string[]>('GET', '/api/v1/groups', { signal });
  return Array.isArray(answer) ? answer : (answer.groups ?? []);
}

/** Distinct definition tags known to the server. */
export async function listTags(signal?: AbortSignal): Promise<string[]> {
  const answer = await requestJson<{ tags?: string[] } | string[]>('GET', '/api/v1/tags', { signal });
  return Array.isArray(answer) ? answer : (answer.tags ?? []);
}
