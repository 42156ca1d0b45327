import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sqlOf } from '../../store/sql-of.js';
import { type WebhookRecord, WebhookStore } from '../../webhooks/webhooks-sql.js';
import type { RoutesOptions } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { Errors, Id } from '../schemas/common.js';
import {
  WEBHOOK_EVENTS,
  Webhook,
  WebhookCreate,
  WebhookDeliveryList,
  WebhookList,
} from '../schemas/schedules.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** A webhook as answered: never its secret (the create answers it once, beside this). */
function presentWebhook(w: WebhookRecord): Webhook {
  return {
    webhook_id: w.webhookId,
    url: w.url,
    definition_id: w.definitionId,
    events: w.events,
    created_at: iso(w.createdAt),
  };
}

/** Most webhooks a server may have. */
export const MAX_WEBHOOKS = 100;

/** Webhooks: run status changes and pipeline events POSTed, signed, to a URL; with their delivery log. */
export const webhookRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  const webhooks = new WebhookStore(sqlOf(deps.store));
  const tags = ['webhooks'];
  const hide = !documented;
  const byId = { params: Type.Object({ webhook_id: Id }) };

  app.post(
    '/webhooks',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'Add a webhook; the answer holds its signing secret, shown this once',
        body: WebhookCreate,
        response: { 200: Webhook, ...Errors },
      },
    },
    async (req) => {
      const b = req.body;
      if ((await webhooks.list()).length >= MAX_WEBHOOKS)
        throw new ApiError(
          409,
          'TOO_MANY_WEBHOOKS',
          `there are ${MAX_WEBHOOKS} webhooks, the most there may be`,
        );
      if (b.definition_id !== undefined && !(await deps.store.getDefinition(b.definition_id)))
        throw notFound('definition', b.definition_id);
      // A pipeline belongs to no definition: a definition's webhook hears its runs only.
      const pipelineEvents = (b.events ?? []).filter((e) => e.startsWith('pipeline.'));
      if (b.definition_id !== undefined && pipelineEvents.length > 0)
        throw new ApiError(
          422,
          'PIPELINE_EVENT_OF_DEFINITION',
          `a webhook of one definition hears its runs only; ${pipelineEvents[0]} goes to global webhooks`,
          { 'body.events': `${pipelineEvents[0]} needs a webhook without definition_id` },
        );
      const events =
        b.events ?? WEBHOOK_EVENTS.filter((e) => b.definition_id === undefined || e.startsWith('run.'));
      const secret = randomBytes(32).toString('hex');
      const created = await webhooks.create({
        webhookId: deps.newId(),
        url: b.url,
        definitionId: b.definition_id ?? null,
        events: [...events],
        secret,
        createdAt: deps.clock.now(),
      });
      return { ...presentWebhook(created), secret };
    },
  );

  app.get(
    '/webhooks',
    {
      config: { permission: 'admin' },
      schema: { tags, hide, summary: 'Every webhook', response: { 200: WebhookList, ...Errors } },
    },
    async () => ({ webhooks: (await webhooks.list()).map(presentWebhook) }),
  );

  app.delete(
    '/webhooks/:webhook_id',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'Delete a webhook',
        ...byId,
        response: { 200: Type.Object({ deleted: Type.Boolean() }), ...Errors },
      },
    },
    async (req) => {
      if (!(await webhooks.delete(req.params.webhook_id))) throw notFound('webhook', req.params.webhook_id);
      return { deleted: true };
    },
  );

  app.get(
    '/webhooks/:webhook_id/deliveries',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: "A webhook's delivery log, newest first (the last 1000 attempts)",
        ...byId,
        querystring: Type.Object(
          {
            limit: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 1000, description: '1 to 1000; default 100.' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: WebhookDeliveryList, ...Errors },
      },
    },
    async (req) => {
      if (!(await webhooks.get(req.params.webhook_id))) throw notFound('webhook', req.params.webhook_id);
      const list = await webhooks.deliveries(req.params.webhook_id, req.query.limit ?? 100);
      return {
        deliveries: list.map((d) => ({
          outbox_id: d.outboxId,
          event: d.event,
          run_id: d.runId,
          pipeline_id: d.pipelineId,
          attempt: d.attempt,
          at: iso(d.at),
          status_code: d.statusCode,
          error: d.error,
          delivered: d.delivered,
        })),
      };
    },
  );
};
