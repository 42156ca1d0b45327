import type { Definition, DefinitionInput, EnvVar } from '../api/types.js';

/**
 * The task form's state: text as typed (numbers and lists stay strings until sent, so a wrong
 * value reaches the server and comes back with the server's own message for that field).
 */
export interface DefinitionForm {
  alias: string;
  group_name: string;
  image: string;
  command: string;
  /** Millicores. */
  cpu: string;
  /** MB. */
  memory: string;
  gpu: string;
  env: EnvVar[];
  /** Comma-separated. */
  tags: string;
  /** Comma-separated port numbers. */
  ports: string;
  target_cluster: string;
}

/** A new task's starting values: flotilla's hello-world example. */
export const NEW_DEFINITION_FORM: DefinitionForm = {
  alias: '',
  group_name: '',
  image: 'ubuntu:latest',
  command: 'echo "hello ${USERNAME}"',
  cpu: '250',
  memory: '512',
  gpu: '',
  env: [{ name: 'USERNAME', value: 'world' }],
  tags: '',
  ports: '',
  target_cluster: '',
};

/** The form of an existing definition. */
export function formFromDefinition(d: Partial<Definition>): DefinitionForm {
  return {
    alias: d.alias ?? '',
    group_name: d.group_name ?? '',
    image: d.image ?? '',
    command: d.command ?? '',
    cpu: d.cpu !== undefined && d.cpu !== null ? String(d.cpu) : '',
    memory: d.memory !== undefined && d.memory !== null ? String(d.memory) : '',
    gpu: d.gpu ? String(d.gpu) : '',
    env: (d.env ?? []).map((e) => ({ name: e.name, value: e.value })),
    tags: (d.tags ?? []).join(', '),
    ports: (d.ports ?? []).join(', '),
    target_cluster: d.target_cluster ?? '',
  };
}

/** A number when the text is one; the text itself otherwise (the server will name the problem). */
function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The JSON a create or update sends. Empty optional fields are left out; blank env rows are
 * dropped. Values that are not numbers are sent as typed, for the server to refuse by name.
 */
export function inputFromForm(form: DefinitionForm): DefinitionInput {
  const input: Record<string, unknown> = {
    alias: form.alias.trim(),
    group_name: form.group_name.trim(),
    image: form.image.trim(),
    command: form.command,
    env: form.env
      .filter((e) => e.name.trim() !== '' || e.value !== '')
      .map((e) => ({ name: e.name.trim(), value: e.value })),
    tags: list(form.tags),
  };
  if (form.cpu.trim() !== '') input['cpu'] = numberOrText(form.cpu);
  if (form.memory.trim() !== '') input['memory'] = numberOrText(form.memory);
  if (form.gpu.trim() !== '') input['gpu'] = numberOrText(form.gpu);
  const ports = list(form.ports);
  if (ports.length) input['ports'] = ports.map(numberOrText);
  if (form.target_cluster) input['target_cluster'] = form.target_cluster;
  return input as unknown as DefinitionInput;
}

/** Parses the JSON view back into a form; throws an Error saying what is wrong. */
export function formFromJson(text: string): DefinitionForm {
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error('The JSON must be an object.');
  const v = value as Record<string, unknown>;
  if (v['env'] !== undefined && !Array.isArray(v['env']))
    throw new Error('"env" must be a list of {name, value}.');
  return formFromDefinition(v as Partial<Definition>);
}
