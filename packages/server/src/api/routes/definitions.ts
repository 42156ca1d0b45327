import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { DefinitionInput, DefinitionRecord } from '../../model/records.js';
import { notFound } from '../errors.js';
import { definitionPlacement } from '../placement.js';
import { checkQueueExists } from '../queue-check.js';
import { withDefinitionExtras } from '../../runs/retry-strategy.js';
import { presentDefinition } from '../present.js';
import { Errors, Id, MAX_LIMIT } from '../schemas/common.js';
import {
  Definition,
  DefinitionCreate,
  DefinitionList,
  DefinitionListQuery,
  DefinitionUpdate,
} from '../schemas/definitions.js';
import type { RoutesOptions } from '../deps.js';

/** Defaults of a new definition: 512 MB, 250 millicores. */
export const DEFAULT_MEMORY_MB = 512;
export const DEFAULT_CPU_MILLICORES = 250;

const nonEmpty = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * Flotilla's update, as documented: a string given non-empty replaces the stored one (an empty
 * string keeps it); a list given replaces the stored list, so an empty list clears it; a number
 * given replaces; an absent field keeps the stored value.
 */
function merge(d: DefinitionRecord, u: DefinitionUpdate): DefinitionInput {
  return {
    alias: nonEmpty(u.alias) ? u.alias : d.alias,
    groupName: nonEmpty(u.group_name) ? u.group_name : d.groupName,
    image: nonEmpty(u.image) ? u.image : d.image,
    command: nonEmpty(u.command) ? u.command : d.command,
    memory: u.memory ?? d.memory,
    cpu: u.cpu ?? d.cpu,
    gpu: u.gpu ?? d.gpu,
    env: u.env ?? d.env,
    ports: u.ports ?? d.ports,
    tags: u.tags ?? d.tags,
    targetCluster: nonEmpty(u.target_cluster) ? u.target_cluster : d.targetCluster,
    ownerId: d.ownerId,
    ...placementField(withDefinitionExtras(definitionPlacement(u, d.placement), u, d)),
  };
}

const placementField = <T>(p: T | undefined): { placement?: T } => (p === undefined ? {} : { placement: p });

/** Definitions (flotilla "tasks"): CRUD and by alias. Executing one is a run route. */
export const definitionRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (
  app,
  { deps, documented },
) => {
  const { store, clock } = deps;
  const tags = ['definitions'];
  const hide = !documented;

  const load = async (id: string) =>
    (await store.getDefinition(id)) ?? Promise.reject(notFound('definition', id));
  const loadAlias = async (alias: string) =>
    (await store.getDefinitionByAlias(alias)) ?? Promise.reject(notFound('definition with alias', alias));

  app.get(
    '/task',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'List definitions',
        querystring: DefinitionListQuery,
        response: { 200: DefinitionList, ...Errors },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = Math.min(q.limit ?? 1024, MAX_LIMIT);
      const page = await store.listDefinitions({
        equals: {
          alias: q.alias,
          group_name: q.group_name,
          image: q.image,
          definition_id: q.definition_id,
          target_cluster: q.target_cluster,
        },
        sortBy: q.sort_by ?? 'alias',
        order: q.order ?? 'asc',
        limit,
        offset: q.offset ?? 0,
      });
      return {
        total: page.total,
        definitions: page.items.map(presentDefinition),
        limit,
        offset: q.offset ?? 0,
        sort_by: q.sort_by ?? 'alias',
        order: q.order ?? 'asc',
      };
    },
  );

  app.post(
    '/task',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary: 'Create a definition',
        body: DefinitionCreate,
        response: { 200: Definition, ...Errors },
      },
    },
    async (req) => {
      const b = req.body;
      await checkQueueExists(store, b.queue, 'body.queue');
      const input: DefinitionInput = {
        alias: b.alias,
        groupName: b.group_name ?? '',
        image: b.image ?? '',
        command: b.command ?? '',
        memory: b.memory ?? DEFAULT_MEMORY_MB,
        cpu: b.cpu ?? DEFAULT_CPU_MILLICORES,
        gpu: b.gpu ?? 0,
        env: b.env ?? [],
        ports: b.ports ?? [],
        tags: b.tags ?? [],
        targetCluster: b.target_cluster ?? null,
        ownerId: null,
        ...placementField(withDefinitionExtras(definitionPlacement(b), b)),
      };
      return presentDefinition(await store.createDefinition(input, deps.newId(), clock.now()));
    },
  );

  const byId = { params: Type.Object({ definition_id: Id }) };
  app.get(
    '/task/:definition_id',
    {
      config: { permission: 'read' },
      schema: { tags, hide, summary: 'Get a definition', ...byId, response: { 200: Definition, ...Errors } },
    },
    async (req) => presentDefinition(await load(req.params.definition_id)),
  );

  app.get(
    '/task/alias/:alias',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'Get a definition by alias',
        params: Type.Object({ alias: Id }),
        response: { 200: Definition, ...Errors },
      },
    },
    async (req) => presentDefinition(await loadAlias(req.params.alias)),
  );

  app.put(
    '/task/:definition_id',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary:
          'Update a definition: fields given replace the stored ones (an empty string keeps it, an empty list clears it); absent fields are kept',
        ...byId,
        body: DefinitionUpdate,
        response: { 200: Definition, ...Errors },
      },
    },
    async (req) => {
      const current = await load(req.params.definition_id);
      await checkQueueExists(store, req.body.queue, 'body.queue');
      const updated = await store.updateDefinition(
        current.definitionId,
        merge(current, req.body),
        clock.now(),
      );
      if (!updated) throw notFound('definition', req.params.definition_id);
      return presentDefinition(updated);
    },
  );

  app.delete(
    '/task/:definition_id',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary: 'Delete a definition (its runs stay in history)',
        ...byId,
        response: { 200: Type.Object({ deleted: Type.Boolean() }), ...Errors },
      },
    },
    async (req) => {
      if (!(await store.deleteDefinition(req.params.definition_id)))
        throw notFound('definition', req.params.definition_id);
      return { deleted: true };
    },
  );
};
