import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  createWebhookSchema,
  deliveryParamsSchema,
  deliverySchema,
  listDeliveriesQuerySchema,
  redeliverSinceSchema,
  rotateSecretSchema,
  updateWebhookSchema,
  webhookIdParamsSchema,
  webhookPayloadSchema,
  webhookSchema,
  webhookWithSecretSchema,
} from './webhook.schemas.ts';

type Response = { description: string; content?: Record<string, { schema: z.ZodType }> };
export interface WebhookOpenApiHelpers {
  json: (schema: z.ZodType, description: string) => Response;
  errors: Record<number, Response>;
}

const DELIVERY =
  'Deliveries are POSTs of `{"type", "timestamp", "data"}` signed per Standard Webhooks (headers webhook-id, webhook-timestamp, ' +
  "webhook-signature: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed with the secret's bytes; during a rotation, one signature per secret). " +
  '`data` holds `incidentId` and, for published, updated and verification_changed, `incident` exactly as a GET by the registering key returns it; ' +
  'withdrawals (unpublished, deleted, merged) carry ids only (and `mergedInto` when the key may read the survivor). At least once, in order per incident, ' +
  'the same webhook-id on every retry; retries with exponential backoff and jitter over more than 24 h; 410 Gone disables the endpoint, and so does ' +
  'a delivery that failed every attempt with no success in between.';

export function registerWebhookPaths(registry: OpenAPIRegistry, { json, errors }: WebhookOpenApiHelpers) {
  registry.registerWebhook({
    method: 'post',
    path: 'incidentEvent',
    operationId: 'receiveDatelineEvent',
    tags: ['webhooks'],
    security: [{}], // authenticated by its signature
    summary: 'What your endpoint receives',
    description: DELIVERY,
    request: {
      headers: z.object({
        'webhook-id': z.string().describe('msg_...: the same on every retry of this delivery; de-duplicate on it.'),
        'webhook-timestamp': z.string().describe('Seconds since 1970 of this attempt.'),
        'webhook-signature': z.string().describe('v1,<base64 HMAC-SHA256>, one per signing secret, space-separated.'),
      }),
      body: { content: { 'application/json': { schema: webhookPayloadSchema } } },
    },
    responses: {
      200: { description: 'Any 2xx: delivered.' },
      410: { description: 'Gone: the endpoint is disabled; nothing more is sent until it is enabled again.' },
    },
  });
  const security = [{ apiKey: [] }];
  const body = (schema: z.ZodType) => ({ body: { content: { 'application/json': { schema } } } });
  const params = { params: webhookIdParamsSchema };
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks',
    operationId: 'createWebhook',
    tags: ['webhooks'],
    security,
    summary: 'Register a webhook endpoint (editor, reviewer, researcher)',
    description: DELIVERY,
    request: body(createWebhookSchema),
    responses: { 201: json(webhookWithSecretSchema, 'Registered; the secret is shown only here.'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/webhooks',
    operationId: 'listWebhooks',
    tags: ['webhooks'],
    security,
    summary: "Your key's webhook endpoints",
    responses: { 200: json(z.object({ data: z.array(webhookSchema) }), 'Endpoints, without secrets.'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/webhooks/{id}',
    operationId: 'getWebhook',
    tags: ['webhooks'],
    security,
    summary: 'One endpoint',
    request: params,
    responses: { 200: json(webhookSchema, 'The endpoint, with why it was disabled if it was.'), ...errors },
  });
  registry.registerPath({
    method: 'patch',
    path: '/v1/webhooks/{id}',
    operationId: 'updateWebhook',
    tags: ['webhooks'],
    security,
    summary: 'Change an endpoint, or enable it again',
    request: { ...params, ...body(updateWebhookSchema) },
    responses: { 200: json(webhookSchema, 'Changed.'), ...errors },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/webhooks/{id}',
    operationId: 'deleteWebhook',
    tags: ['webhooks'],
    security,
    summary: 'Remove an endpoint',
    request: params,
    responses: { 204: { description: 'Removed; nothing more is delivered to it.' }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks/{id}/rotate-secret',
    operationId: 'rotateWebhookSecret',
    tags: ['webhooks'],
    security,
    summary: 'Replace the signing secret, with an overlap window',
    request: { ...params, ...body(rotateSecretSchema) },
    responses: {
      200: json(webhookWithSecretSchema, 'The new secret, shown only here; the previous one signs too until it expires.'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/webhooks/{id}/deliveries',
    operationId: 'listWebhookDeliveries',
    tags: ['webhooks'],
    security,
    summary: 'The delivery log: status, attempts, last response code and latency',
    request: { ...params, query: listDeliveriesQuerySchema },
    responses: { 200: json(z.object({ data: z.array(deliverySchema) }), 'Newest event first.'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver',
    operationId: 'redeliverWebhookDelivery',
    tags: ['webhooks'],
    security,
    summary: 'Send one delivery again, same webhook-id',
    request: { params: deliveryParamsSchema },
    responses: { 202: json(z.object({ redelivered: z.int() }), 'Due now.'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks/{id}/redeliver',
    operationId: 'redeliverWebhookDeliveriesSince',
    tags: ['webhooks'],
    security,
    summary: 'Send every delivery of events since a time again',
    request: { ...params, ...body(redeliverSinceSchema) },
    responses: { 202: json(z.object({ redelivered: z.int() }), 'Due now, in their order.'), ...errors },
  });
}
