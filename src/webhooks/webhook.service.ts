import { sql } from 'kysely';
import { requireRole, type KeyActor } from '../auth/actor.ts';
import { appendAudit, type AuditContext } from '../audit/audit.queries.ts';
import type { Db } from '../db/create-db.ts';
import { NotFoundError, UnauthenticatedError, ValidationError } from '../errors.ts';
import type { Actor } from '../auth/actor.ts';
import { parseWebhookFilter } from './webhook-filter.ts';
import { newWebhookSecret } from './webhook-signing.ts';
import { activeSecrets, deliveryView, endpointView, findOwnEndpoint, listOwnEndpoints, type EndpointRow } from './webhook.queries.ts';
import type { CreateWebhookInput, UpdateWebhookInput } from './webhook.schemas.ts';
import { resolveSafely, UnsafeUrlError } from './url-safety.ts';

/**
 * Registering and managing webhook endpoints. An endpoint belongs to the key that registered it
 * (an editor, reviewer or researcher key): payloads are shaped exactly as a GET by that key, and
 * only that key sees, changes or replays it; another key's endpoint answers 404. Every change is
 * audited (entity type `webhook`), never with a secret in it.
 */
export interface WebhookContext extends AuditContext {
  actor: KeyActor;
}

export function webhookContext(actor: Actor, requestId: string): WebhookContext {
  const member = requireRole(actor, 'editor', 'reviewer', 'researcher');
  if (member.kind !== 'key') throw new UnauthenticatedError('Webhooks are registered with an API key.');
  return { actor: member, requestId };
}

async function checkUrl(url: string, allowPrivate: boolean) {
  try {
    await resolveSafely(url, allowPrivate);
  } catch (error) {
    if (error instanceof UnsafeUrlError)
      throw new ValidationError('The request body is not valid.', [{ pointer: '/url', detail: error.message }]);
    throw error;
  }
}

async function view(db: Db, row: EndpointRow) {
  return endpointView(row, await activeSecrets(db, [row.id]));
}

const audited = (row: EndpointRow) => {
  const { key_id: keyId, organisation_id: _org, ...rest } = row;
  return { ...rest, keyId };
};

export async function createWebhook(db: Db, context: WebhookContext, input: CreateWebhookInput, allowPrivate: boolean) {
  parseWebhookFilter(input.filter, context.actor);
  await checkUrl(input.url, allowPrivate);
  const secret = newWebhookSecret();
  const row = await db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('webhook_endpoints')
      .values({
        organisation_id: context.actor.organisationId,
        key_id: context.actor.keyId,
        url: input.url,
        event_types: input.eventTypes,
        filter: input.filter,
        description: input.description ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.insertInto('webhook_secrets').values({ endpoint_id: inserted.id, secret }).execute();
    await appendAudit(trx, context, {
      action: 'webhook.create',
      entityType: 'webhook',
      entityId: inserted.id,
      organisationId: context.actor.organisationId,
      before: null,
      after: audited(inserted),
    });
    return inserted;
  });
  return { ...(await view(db, row)), secret };
}

export async function listWebhooks(db: Db, context: WebhookContext) {
  const rows = await listOwnEndpoints(db, context.actor.keyId);
  const secrets = await activeSecrets(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) =>
    endpointView(
      row,
      secrets.filter((secret) => secret.endpoint_id === row.id),
    ),
  );
}

export async function getWebhook(db: Db, context: WebhookContext, id: string) {
  const row = await findOwnEndpoint(db, context.actor.keyId, id);
  if (!row) throw new NotFoundError('Webhook not found.');
  return view(db, row);
}

export async function updateWebhook(db: Db, context: WebhookContext, id: string, input: UpdateWebhookInput, allowPrivate: boolean) {
  if (input.filter !== undefined) parseWebhookFilter(input.filter, context.actor);
  if (input.url !== undefined) await checkUrl(input.url, allowPrivate);
  const row = await db.transaction().execute(async (trx) => {
    const before = await findOwnEndpoint(trx, context.actor.keyId, id, { lock: true });
    if (!before) throw new NotFoundError('Webhook not found.');
    const after = await trx
      .updateTable('webhook_endpoints')
      .set({
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.eventTypes !== undefined ? { event_types: input.eventTypes } : {}),
        ...(input.filter !== undefined ? { filter: input.filter } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.enabled === true ? { enabled: true, disabled_reason: null, disabled_at: null } : {}),
        ...(input.enabled === false ? { enabled: false, disabled_reason: 'disabled by its owner', disabled_at: sql<Date>`now()` } : {}),
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, context, {
      action: 'webhook.update',
      entityType: 'webhook',
      entityId: id,
      organisationId: context.actor.organisationId,
      before: audited(before),
      after: audited(after),
    });
    return after;
  });
  return view(db, row);
}

export async function deleteWebhook(db: Db, context: WebhookContext, id: string) {
  await db.transaction().execute(async (trx) => {
    const before = await findOwnEndpoint(trx, context.actor.keyId, id, { lock: true });
    if (!before) throw new NotFoundError('Webhook not found.');
    await trx
      .updateTable('webhook_endpoints')
      .set({ deleted_at: sql<Date>`now()`, enabled: false, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .execute();
    await appendAudit(trx, context, {
      action: 'webhook.delete',
      entityType: 'webhook',
      entityId: id,
      organisationId: context.actor.organisationId,
      before: audited(before),
      after: null,
    });
  });
}

/** A new secret signs from now on; the previous ones keep signing for `overlapSeconds`, then expire. */
export async function rotateWebhookSecret(db: Db, context: WebhookContext, id: string, overlapSeconds: number) {
  const secret = newWebhookSecret();
  await db.transaction().execute(async (trx) => {
    const endpoint = await findOwnEndpoint(trx, context.actor.keyId, id, { lock: true });
    if (!endpoint) throw new NotFoundError('Webhook not found.');
    const expires = sql<Date>`now() + make_interval(secs => ${overlapSeconds})`;
    await trx
      .updateTable('webhook_secrets')
      .set({ expires_at: expires })
      .where('endpoint_id', '=', id)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', expires)]))
      .execute();
    await trx.insertInto('webhook_secrets').values({ endpoint_id: id, secret }).execute();
    await appendAudit(trx, context, {
      action: 'webhook.rotate_secret',
      entityType: 'webhook',
      entityId: id,
      organisationId: context.actor.organisationId,
      before: null,
      after: { overlapSeconds },
    });
  });
  const row = (await findOwnEndpoint(db, context.actor.keyId, id))!;
  return { ...(await view(db, row)), secret };
}

export async function listDeliveries(
  db: Db,
  context: WebhookContext,
  id: string,
  query: { status?: string | undefined; since?: string | undefined; limit: number },
) {
  const endpoint = await findOwnEndpoint(db, context.actor.keyId, id);
  if (!endpoint) throw new NotFoundError('Webhook not found.');
  let select = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', id);
  if (query.status) select = select.where('status', '=', query.status as 'pending');
  if (query.since) select = select.where('committed_at', '>=', new Date(query.since));
  const rows = await select.orderBy('event_id', 'desc').limit(query.limit).execute();
  return rows.map(deliveryView);
}

/**
 * Sends deliveries again, with the same webhook-id (a receiver de-duplicates on it): one, or
 * every one of events committed since a time. They are due at once and keep their order.
 */
export async function redeliver(db: Db, context: WebhookContext, id: string, which: { deliveryId: string } | { since: string }) {
  return db.transaction().execute(async (trx) => {
    const endpoint = await findOwnEndpoint(trx, context.actor.keyId, id);
    if (!endpoint) throw new NotFoundError('Webhook not found.');
    let update = trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: sql<Date>`now()`, lease_until: null, first_failed_at: null })
      .where('endpoint_id', '=', id);
    update = 'deliveryId' in which ? update.where('id', '=', which.deliveryId) : update.where('committed_at', '>=', new Date(which.since));
    const rows = await update.returning('id').execute();
    if ('deliveryId' in which && !rows.length) throw new NotFoundError('Delivery not found.');
    await appendAudit(trx, context, {
      action: 'webhook.redeliver',
      entityType: 'webhook',
      entityId: id,
      organisationId: context.actor.organisationId,
      before: null,
      after: { ...which, deliveries: rows.length },
    });
    return { redelivered: rows.length };
  });
}

export { deliveryView };
