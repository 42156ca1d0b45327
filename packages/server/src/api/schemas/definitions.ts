import { Type, type Static } from '@sinclair/typebox';
import { EnvList, Nullable, PagingQuery } from './common.js';
import { DefinitionPlacementAnswer, DefinitionPlacementFields } from './placement.js';

/** Sortable definition columns (the store's DEFINITION_SORT_FIELDS; a test keeps them equal). */
export const DEFINITION_SORT_FIELDS = ['alias', 'group_name', 'image', 'created_at', 'updated_at'] as const;

const alias = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  maxLength: 200,
  description: 'Unique name of the definition; letters, digits, `.`, `_`, `-`.',
});
const memory = Type.Integer({ minimum: 1, maximum: 16_777_216, description: 'Memory in MB.' });
const cpu = Type.Integer({
  minimum: 1,
  maximum: 1_000_000,
  description: "CPU in millicores (flotilla's unit): 1000 = one CPU.",
});
const gpu = Type.Integer({ minimum: 0, maximum: 64 });
const ports = Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { maxItems: 100 });
const tags = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 });

const editable = {
  group_name: Type.Optional(Type.String({ maxLength: 200 })),
  image: Type.Optional(
    Type.String({
      maxLength: 1000,
      description: 'Container image (recorded; the local backend does not use it).',
    }),
  ),
  command: Type.Optional(Type.String({ maxLength: 131072, description: 'Run by `/bin/sh -c`.' })),
  memory: Type.Optional(memory),
  cpu: Type.Optional(cpu),
  gpu: Type.Optional(gpu),
  env: Type.Optional(EnvList),
  ports: Type.Optional(ports),
  tags: Type.Optional(tags),
  target_cluster: Type.Optional(Type.String({ maxLength: 200 })),
  ...DefinitionPlacementFields,
};

/** POST /task. Defaults: memory 512 MB, cpu 250 millicores, gpu 0. */
export const DefinitionCreate = Type.Object({ alias, ...editable }, { additionalProperties: false });
export type DefinitionCreate = Static<typeof DefinitionCreate>;

/** PUT /task/{id}: fields given non-empty replace the stored ones; empty or absent ones are kept. */
export const DefinitionUpdate = Type.Object(
  { alias: Type.Optional(alias), ...editable },
  { additionalProperties: false },
);
export type DefinitionUpdate = Static<typeof DefinitionUpdate>;

export const Definition = Type.Object({
  definition_id: Type.String(),
  alias: Type.String(),
  group_name: Type.String(),
  image: Type.String(),
  command: Type.String(),
  memory: Type.Integer(),
  cpu: Type.Integer(),
  gpu: Type.Integer(),
  env: EnvList,
  ports: Type.Array(Type.Integer()),
  tags: Type.Array(Type.String()),
  target_cluster: Nullable(Type.String()),
  ...DefinitionPlacementAnswer,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Definition = Static<typeof Definition>;

export const DefinitionListQuery = Type.Object(
  {
    ...PagingQuery,
    sort_by: Type.Optional(
      Type.Union(
        DEFINITION_SORT_FIELDS.map((f) => Type.Literal(f)),
        { default: 'alias' },
      ),
    ),
    alias: Type.Optional(Type.String()),
    group_name: Type.Optional(Type.String()),
    image: Type.Optional(Type.String()),
    definition_id: Type.Optional(Type.String()),
    target_cluster: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type DefinitionListQuery = Static<typeof DefinitionListQuery>;

export const DefinitionList = Type.Object({
  total: Type.Integer(),
  definitions: Type.Array(Definition),
  limit: Type.Integer(),
  offset: Type.Integer(),
  sort_by: Type.String(),
  order: Type.String(),
});
export type DefinitionList = Static<typeof DefinitionList>;
