import { sql, type Transaction } from 'kysely';
import { isSealed, seal, sealedPlace, unseal } from '../crypto/sealed-value.ts';
import { ownOrganisation, type KeyActor, type Role, systemActor } from '../auth/actor.ts';
import { appendAudit } from '../audit/audit.queries.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/create-db.ts';
import type { Database } from '../db/database.ts';
import { matchesFilters } from '../incidents/incident-filters.ts';
import { shapeIncident, viewFor } from '../incidents/incident-shapes.ts';
import { draftsSharedWith, findIncidentTree } from '../incidents/incident.queries.ts';
import type { Logger } from '../logger.ts';
import { parseWebhookFilter } from './webhook-filter.ts';
import { sendWebhook, type AttemptResult } from './webhook-sender.ts';
import { signedHeaders } from './webhook-signing.ts';
import { activeSecrets } from './webhook.queries.ts';

/**
 * The delivery worker, inside each API process. Safe with several processes: every step claims
 * its rows with FOR UPDATE SKIP LOCKED, in short transactions; no transaction stays open while
 * a receiver is called (the embedded database has one connection, which the API needs).
 *
 * 1. Fan-out: each outbox event (webhook_events) becomes one delivery per enabled endpoint that
 *    subscribes to its type, whose key is not revoked, that may see the incident and whose filter
 *    matches it; the payload is shaped then, exactly as a GET by that key would be, and stored,
 *    so every retry sends the same bytes under the same webhook-id. Events of one incident are
 *    fanned out in order.
 * 2. Delivery: a due delivery is leased (lease_until) and sent; a process killed mid-attempt
 *    leaves the lease to expire, and the delivery is sent again (at least once). A delivery
 *    waits while an earlier one of the same incident to the same endpoint is pending: order per
 *    incident.
 * 3. Outcome: 2xx succeeded. 410 Gone disables the endpoint. Anything else (no answer, timeout,
 *    3xx, 4xx, 5xx) is retried after the next delay of the schedule, +-20% jitter; after the
 *    last attempt (12 by default, over more than 24 h) the delivery has failed, and if the
 *    endpoint has not succeeded since that delivery's first failure, the endpoint is disabled
 *    with the reason. Disabling is audited (actor system:webhook-worker).
 */
/** Finished deliveries (and their fanned-out events) are kept this long for the log and redelivery. */
export const RETENTION_DAYS = 30;

/** A delivery's payload is bound to its endpoint and event (src/crypto/sealed-value.ts; the rotation re-seals it by the same place). */
const payloadPlace = (endpointId: string, eventId: string | number) =>
  sealedPlace('webhook_deliveries', 'payload', `${endpointId}/${eventId}`);
const sealedPayload = (endpointId: string, eventId: string | number, payload: string) => seal(payload, payloadPlace(endpointId, eventId));
const openedPayload = (endpointId: string, eventId: string | number, stored: string) =>
  isSealed(stored) ? unseal(stored, payloadPlace(endpointId, eventId)) : stored;
const PRUNE_EVERY_MS = 3_600_000;

export const DEFAULT_RETRY_SCHEDULE_SECONDS = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 28_800, 28_800];

export interface DeliveryWorkerOptions {
  db: Db;
  logger: Logger;
  allowPrivate: boolean;
  timeoutMs: number;
  /** Seconds to wait after attempt 1, 2, ...; its length + 1 is the number of attempts. */
  retryScheduleSeconds?: readonly number[] | undefined;
  /** How often to look for work when there was none. */
  pollMs?: number;
  /** Deliveries in flight at once, per process. */
  concurrency?: number;
}

export interface DeliveryWorker {
  /** One round of fan-out and claiming (tests call it to not wait for the poll). */
  tick(): Promise<void>;
  /** Resolves once no delivery is in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

type Trx = Transaction<Database>;

/** The worker as src/server.ts runs it, from the WEBHOOKS_* settings; undefined when WEBHOOKS_WORKER=false. */
export function startConfiguredWorker(db: Db, config: Config, logger: Logger): DeliveryWorker | undefined {
  if (!config.WEBHOOKS_WORKER) return undefined;
  return startDeliveryWorker({
    db,
    logger,
    allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE,
    timeoutMs: config.WEBHOOKS_TIMEOUT_MS,
    retryScheduleSeconds: config.WEBHOOKS_RETRY_SCHEDULE?.split(',').map(Number),
  });
}

export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { db, logger } = options;
  const schedule = options.retryScheduleSeconds ?? DEFAULT_RETRY_SCHEDULE_SECONDS;
  const concurrency = options.concurrency ?? 8;
  const pollMs = options.pollMs ?? 500;
  const leaseSeconds = Math.ceil(options.timeoutMs / 1000) + 30;
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  let prunedAt = 0;
  const round = async () => {
    if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = Date.now();
      await pruneDeliveries(db, RETENTION_DAYS);
    }
    while ((await fanOut(db, 100)) === 100 && !stopped);
    const free = concurrency - inFlight.size;
    if (free <= 0 || stopped) return;
    const claimed = await claimDue(db, free, leaseSeconds);
    for (const delivery of claimed) {
      const work = attempt(db, delivery, options, schedule)
        .catch((error: unknown) => logger.error({ err: error, delivery: delivery.id }, 'webhook delivery failed unexpectedly'))
        .finally(() => {
          inFlight.delete(work);
          if (!stopped) schedule_(0); // the next of the same incident may be due now
        });
      inFlight.add(work);
    }
  };
  const tick = () => {
    running ??= round()
      .catch((error: unknown) => logger.warn({ err: error }, 'webhook worker round failed; retrying'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const schedule_ = (delay: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void tick().then(() => schedule_(pollMs)), delay);
  };
  schedule_(0);
  return {
    tick,
    idle: async () => {
      while (inFlight.size || running) await Promise.all([...inFlight, running]);
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
      await Promise.all(inFlight);
    },
  };
}

/** Removes deliveries finished more than `days` ago, then the events left without any. */
export async function pruneDeliveries(db: Db, days: number): Promise<void> {
  await sql`delete from webhook_deliveries where status <> 'pending' and created_at < now() - make_interval(days => ${days})`.execute(db);
  await sql`delete from webhook_events e where e.fanned_out_at < now() - make_interval(days => ${days})
    and not exists (select 1 from webhook_deliveries d where d.event_id = e.id)`.execute(db);
}

// ---------------------------------------------------------------- fan-out

interface EventRow {
  id: string;
  type: string;
  incident_id: string | null;
  organisation_id: string;
  was_published: boolean;
  merged_into: string | null;
  detail: unknown;
  order_key: string;
  occurred_at: Date;
}

async function fanOut(db: Db, limit: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows: events } = await sql<EventRow>`
      select * from webhook_events e
      where e.fanned_out_at is null
        and not exists (select 1 from webhook_events p where p.fanned_out_at is null and p.order_key = e.order_key and p.id < e.id)
      order by e.id limit ${limit}
      for update skip locked`.execute(trx);
    if (!events.length) return 0;
    const endpoints = await trx
      .selectFrom('webhook_endpoints as e')
      .innerJoin('api_keys as k', 'k.id', 'e.key_id')
      .select(['e.id', 'e.event_types', 'e.filter', 'k.id as key_id', 'k.organisation_id', 'k.role'])
      .where('e.enabled', '=', true)
      .where('e.deleted_at', 'is', null)
      .where('k.revoked_at', 'is', null)
      // An expired key (or a rotated one past its grace) is told nothing more, as it could ask nothing more.
      .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', sql<Date>`now()`)]))
      .execute();
    for (const event of events) {
      const deliveries = [];
      for (const endpoint of endpoints.filter((candidate) => candidate.event_types.includes(event.type))) {
        const actor: KeyActor = {
          kind: 'key',
          keyId: endpoint.key_id,
          organisationId: endpoint.organisation_id,
          role: endpoint.role as Role,
        };
        const data = await payloadFor(trx, event, actor, endpoint.filter);
        if (!data) continue;
        // Sealed at rest: an editor's payload is the full view, internal notes and protected victims included.
        const payload = sealedPayload(
          endpoint.id,
          event.id,
          JSON.stringify({ type: event.type, timestamp: event.occurred_at.toISOString(), data }),
        );
        deliveries.push({
          endpoint_id: endpoint.id,
          event_id: event.id,
          event_type: event.type,
          order_key: event.order_key,
          payload,
          committed_at: event.occurred_at,
        });
      }
      if (deliveries.length)
        await trx
          .insertInto('webhook_deliveries')
          .values(deliveries)
          .onConflict((oc) => oc.doNothing())
          .execute();
    }
    await trx
      .updateTable('webhook_events')
      .set({ fanned_out_at: sql<Date>`now()` })
      .where(
        'id',
        'in',
        events.map((event) => event.id),
      )
      .execute();
    return events.length;
  });
}

/**
 * The event's data as this key may see it, or undefined when the key may not see it or its
 * filter does not match. Changes that keep the incident readable carry it, shaped as a GET by
 * the key. Withdrawals (unpublished, deleted, merged) carry only ids, and reach a key that could
 * read the incident before: its own organisation, researchers, or anyone when it was published.
 * For a key that saw only the public record the filter is not applied to a withdrawn incident:
 * its current record is no longer public (as the feed's tombstones).
 */
async function payloadFor(trx: Trx, event: EventRow, actor: KeyActor, filterText: string): Promise<Record<string, unknown> | undefined> {
  // An import is its organisation's business: its editors and reviewers (GET /v1/imports/{id}).
  if (!event.incident_id)
    return ownOrganisation(actor) === event.organisation_id ? ((event.detail ?? {}) as Record<string, unknown>) : undefined;
  const filters = safeFilters(filterText, actor);
  if (!filters) return undefined;
  const incidentId = event.incident_id;
  const matches = async () =>
    Boolean(
      await trx.selectFrom('incidents').select('id').where('id', '=', incidentId).where(matchesFilters(filters, actor)).executeTakeFirst(),
    );
  if (['incident.published', 'incident.updated', 'incident.verification_changed'].includes(event.type)) {
    const row = await findIncidentTree(trx, incidentId, actor);
    if (!row || !(await matches())) return undefined;
    return { incidentId, incident: shapeIncident(row, viewFor(actor, row.organisation_id, row.sealed)) };
  }
  // Researchers saw the drafts of their own organisation and of those sharing drafts with it (migration 0017).
  const privileged =
    ownOrganisation(actor) === event.organisation_id ||
    (actor.role === 'researcher' &&
      (actor.organisationId === event.organisation_id || (await draftsSharedWith(trx, event.organisation_id, actor.organisationId))));
  if (!privileged && !event.was_published) return undefined;
  if (privileged && filterText && !(await matches())) return undefined;
  const survivor = event.merged_into && (await findIncidentTree(trx, event.merged_into, actor)) ? { mergedInto: event.merged_into } : {};
  return { incidentId, ...survivor };
}

function safeFilters(text: string, actor: KeyActor) {
  try {
    return parseWebhookFilter(text, actor);
  } catch {
    return undefined; // checked at registration; a filter that no longer parses matches nothing
  }
}

// ---------------------------------------------------------------- delivery

interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  event_id: string | number;
  url: string;
  payload: string;
  attempts: number;
  first_failed_at: Date | null;
  last_success_at: Date | null;
}

async function claimDue(db: Db, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<ClaimedDelivery>`
      with due as (
        select d.id from webhook_deliveries d
        join webhook_endpoints e on e.id = d.endpoint_id
        join api_keys k on k.id = e.key_id
        where d.status = 'pending' and d.next_attempt_at <= now() and (d.lease_until is null or d.lease_until < now())
          and e.enabled and e.deleted_at is null and k.revoked_at is null and (k.expires_at is null or k.expires_at > now())
          and not exists (
            select 1 from webhook_deliveries p
            where p.endpoint_id = d.endpoint_id and p.order_key = d.order_key and p.status = 'pending' and p.event_id < d.event_id)
        order by d.next_attempt_at, d.event_id
        limit ${limit}
        for update of d skip locked
      )
      update webhook_deliveries w
      set lease_until = now() + make_interval(secs => ${leaseSeconds}), attempts = w.attempts + 1
      from due, webhook_endpoints e
      where w.id = due.id and e.id = w.endpoint_id
      returning w.id, w.endpoint_id, w.event_id, e.url, w.payload, w.attempts, w.first_failed_at, e.last_success_at`.execute(trx);
    return rows.map((row) => ({ ...row, payload: openedPayload(row.endpoint_id, row.event_id, row.payload) }));
  });
}

async function attempt(db: Db, delivery: ClaimedDelivery, options: DeliveryWorkerOptions, schedule: readonly number[]) {
  const secrets = (await activeSecrets(db, [delivery.endpoint_id])).map((row) => row.secret);
  const headers = signedHeaders(secrets, `msg_${delivery.id}`, delivery.payload);
  const result = await sendWebhook(delivery.url, headers, delivery.payload, {
    allowPrivate: options.allowPrivate,
    timeoutMs: options.timeoutMs,
  });
  await record(db, delivery, result, schedule);
}

const recorded = (result: AttemptResult) => ({
  last_status_code: result.statusCode,
  last_error: result.error?.slice(0, 500) ?? null,
  last_latency_ms: result.latencyMs,
  lease_until: null,
});

async function record(db: Db, delivery: ClaimedDelivery, result: AttemptResult, schedule: readonly number[]) {
  await db.transaction().execute(async (trx) => {
    if (result.ok) {
      await trx
        .updateTable('webhook_deliveries')
        .set({ ...recorded(result), status: 'succeeded', delivered_at: sql<Date>`now()` })
        .where('id', '=', delivery.id)
        .execute();
      await trx
        .updateTable('webhook_endpoints')
        .set({ last_success_at: sql<Date>`now()` })
        .where('id', '=', delivery.endpoint_id)
        .execute();
      return;
    }
    if (result.statusCode === 410) {
      // Still pending: re-enabling the endpoint sends it again.
      await trx
        .updateTable('webhook_deliveries')
        .set({ ...recorded(result), next_attempt_at: sql<Date>`now()` })
        .where('id', '=', delivery.id)
        .execute();
      await disable(trx, delivery.endpoint_id, 'the receiver answered 410 Gone');
      return;
    }
    const firstFailedAt = delivery.first_failed_at ?? new Date();
    if (delivery.attempts > schedule.length) {
      await trx
        .updateTable('webhook_deliveries')
        .set({ ...recorded(result), status: 'failed', first_failed_at: firstFailedAt })
        .where('id', '=', delivery.id)
        .execute();
      if (!delivery.last_success_at || delivery.last_success_at < firstFailedAt) {
        const last = result.statusCode ? `HTTP ${result.statusCode}` : result.error;
        await disable(
          trx,
          delivery.endpoint_id,
          `${delivery.attempts} consecutive failed attempts since ${firstFailedAt.toISOString()}, no success since; last: ${last}`,
        );
      }
      return;
    }
    const delay = schedule[delivery.attempts - 1]! * (0.8 + Math.random() * 0.4);
    await trx
      .updateTable('webhook_deliveries')
      .set({ ...recorded(result), first_failed_at: firstFailedAt, next_attempt_at: sql<Date>`now() + make_interval(secs => ${delay})` })
      .where('id', '=', delivery.id)
      .execute();
  });
}

async function disable(trx: Trx, endpointId: string, reason: string) {
  const before = await trx
    .selectFrom('webhook_endpoints')
    .select(['enabled', 'organisation_id'])
    .where('id', '=', endpointId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (!before.enabled) return;
  await trx
    .updateTable('webhook_endpoints')
    .set({ enabled: false, disabled_reason: reason, disabled_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('id', '=', endpointId)
    .execute();
  await appendAudit(
    trx,
    { actor: systemActor('webhook-worker'), requestId: null },
    {
      action: 'webhook.disable',
      entityType: 'webhook',
      entityId: endpointId,
      organisationId: before.organisation_id,
      before: { enabled: true },
      after: { enabled: false, disabledReason: reason },
    },
  );
}
