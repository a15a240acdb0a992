import { z } from 'zod';

/** What a webhook endpoint may subscribe to (README, "Webhooks"). */
export const WEBHOOK_EVENT_TYPES = [
  'incident.published',
  'incident.updated',
  'incident.unpublished',
  'incident.deleted',
  'incident.verification_changed',
  'incident.merged',
  'import.completed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1, 'subscribe to at least one event type')
  .refine((types) => new Set(types).size === types.length, 'an event type appears twice');

const filter = z
  .string()
  .max(4000)
  .describe('Incident filters in the list\'s query language, e.g. "country=SY&victimOutcome=killed"; empty: every incident you may see.');

export const createWebhookSchema = z.strictObject({
  url: z.string().min(1).max(2000).describe('https:// only, to a public address.'),
  eventTypes,
  filter: filter.default(''),
  description: z.string().max(500).optional(),
});
export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;

export const updateWebhookSchema = z.strictObject({
  url: z.string().min(1).max(2000).optional(),
  eventTypes: eventTypes.optional(),
  filter: filter.optional(),
  description: z.string().max(500).nullable().optional(),
  enabled: z.boolean().optional().describe('true re-enables an endpoint the worker disabled; deliveries still pending resume, in order.'),
});
export type UpdateWebhookInput = z.infer<typeof updateWebhookSchema>;

export const rotateSecretSchema = z.strictObject({
  overlapSeconds: z
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(86_400)
    .describe('How long the previous secret keeps signing too (both signatures are sent); default one day.'),
});

export const webhookIdParamsSchema = z.strictObject({ id: z.uuid() });
export const deliveryParamsSchema = z.strictObject({
  id: z.uuid(),
  deliveryId: z
    .string()
    .regex(/^(msg_)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a delivery id (msg_...)')
    .transform((value) => value.replace(/^msg_/, '')),
});

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export const listDeliveriesQuerySchema = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional(),
  since: z.iso.datetime({ offset: true }).optional().describe('Deliveries of events committed at or after this time.'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const redeliverSinceSchema = z.strictObject({
  since: z.iso.datetime({ offset: true }).describe('Redeliver every delivery of an event committed at or after this time.'),
});

// ---------------------------------------------------------------- output shapes

export const webhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    eventTypes: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    filter: z.string(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    disabledAt: z.iso.datetime().nullable(),
    lastSuccessAt: z.iso.datetime().nullable(),
    secrets: z
      .array(z.object({ createdAt: z.iso.datetime(), expiresAt: z.iso.datetime().nullable() }))
      .describe('The secrets that sign now (never their values): the current one, and a rotated one until it expires.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Webhook' });

export const webhookWithSecretSchema = webhookSchema
  .extend({ secret: z.string().describe('whsec_...: shown only in this answer. Verify each delivery with it (Standard Webhooks).') })
  .meta({ id: 'WebhookWithSecret' });

export const deliverySchema = z
  .object({
    id: z.string().describe('The webhook-id header of every attempt of this delivery.'),
    eventType: z.enum(WEBHOOK_EVENT_TYPES),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.int(),
    nextAttemptAt: z.iso.datetime().nullable(),
    lastStatusCode: z.int().nullable(),
    lastError: z.string().nullable(),
    lastLatencyMs: z.int().nullable(),
    committedAt: z.iso.datetime(),
    deliveredAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

/** What a receiver gets (documented as the OpenAPI document's `webhooks`). */
export const webhookPayloadSchema = z
  .object({
    type: z.enum(WEBHOOK_EVENT_TYPES),
    timestamp: z.iso.datetime().describe('When the change committed.'),
    data: z.object({
      incidentId: z.uuid().optional(),
      incident: z
        .record(z.string(), z.unknown())
        .optional()
        .describe(
          'published, updated, verification_changed: the incident exactly as GET /v1/incidents/{id} by the registering key returns it.',
        ),
      mergedInto: z.uuid().optional().describe('incident.merged: the survivor, when the key may read it.'),
      importId: z.uuid().optional(),
      format: z.string().optional(),
      counts: z.object({ rows: z.int(), created: z.int(), rejected: z.int() }).optional().describe('import.completed'),
    }),
  })
  .meta({ id: 'WebhookPayload' });
