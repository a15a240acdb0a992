import { sql, type Kysely } from 'kysely';

/**
 * Feeds and webhooks (issue 16). Both are written in the transaction of the incident change
 * they record (src/incidents/incident-hooks.ts), so a change that rolls back leaves nothing.
 *
 * incident_withdrawals: a published incident left the public view (unpublished, deleted or
 * merged away). The Atom feed turns these into tombstones (RFC 6721); nothing else records that
 * a draft was once public.
 *
 * webhook_events is the transactional outbox; the delivery worker fans each event out to the
 * endpoints that may see it (webhook_deliveries, one row per endpoint and event, whose id is the
 * webhook-id of every attempt). Secrets are kept in clear: the HMAC needs them.
 */
const statements = [
  sql`create table incident_withdrawals (
    id bigint generated always as identity primary key,
    incident_id uuid not null references incidents (id),
    reason text not null check (reason in ('unpublished', 'deleted', 'merged')),
    withdrawn_at timestamptz not null default now()
  )`,
  sql`create index incident_withdrawals_time_idx on incident_withdrawals (withdrawn_at desc, id desc)`,
  sql`create table webhook_endpoints (
    id uuid primary key default gen_random_uuid(),
    organisation_id uuid not null references organisations (id),
    key_id uuid not null references api_keys (id),
    url text not null check (length(url) between 1 and 2000),
    event_types text[] not null,
    filter text not null default '' check (length(filter) <= 4000),
    description text check (length(description) <= 500),
    enabled boolean not null default true,
    disabled_reason text,
    disabled_at timestamptz,
    last_success_at timestamptz,
    deleted_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  sql`create index webhook_endpoints_key_idx on webhook_endpoints (key_id) where deleted_at is null`,
  sql`create table webhook_secrets (
    id bigint generated always as identity primary key,
    endpoint_id uuid not null references webhook_endpoints (id),
    secret text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz
  )`,
  sql`create index webhook_secrets_endpoint_idx on webhook_secrets (endpoint_id)`,
  sql`create table webhook_events (
    id bigint generated always as identity primary key,
    type text not null,
    incident_id uuid,
    organisation_id uuid not null,
    was_published boolean not null default false,
    merged_into uuid,
    detail jsonb,
    order_key text not null,
    occurred_at timestamptz not null default now(),
    fanned_out_at timestamptz
  )`,
  sql`create index webhook_events_pending_idx on webhook_events (id) where fanned_out_at is null`,
  // Fan-out takes an event only when no earlier one of the same incident waits (order per incident).
  sql`create index webhook_events_order_idx on webhook_events (order_key, id) where fanned_out_at is null`,
  sql`create table webhook_deliveries (
    id uuid primary key default gen_random_uuid(),
    endpoint_id uuid not null references webhook_endpoints (id),
    event_id bigint not null references webhook_events (id),
    event_type text not null,
    order_key text not null,
    payload text not null,
    status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    lease_until timestamptz,
    first_failed_at timestamptz,
    last_status_code integer,
    last_error text,
    last_latency_ms integer,
    committed_at timestamptz not null,
    created_at timestamptz not null default now(),
    delivered_at timestamptz,
    unique (endpoint_id, event_id)
  )`,
  sql`create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending'`,
  sql`create index webhook_deliveries_order_idx on webhook_deliveries (endpoint_id, order_key, event_id) where status = 'pending'`,
  sql`create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, created_at desc)`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['webhook_deliveries', 'webhook_events', 'webhook_secrets', 'webhook_endpoints', 'incident_withdrawals']) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
