import type { ColumnType, Generated } from 'kysely';

/** The tables of feeds and webhooks (migration 0013): src/feeds/ and src/webhooks/. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** A published incident left the public view: a tombstone in the Atom feed. */
export interface IncidentWithdrawalsTable {
  id: Generated<string>;
  incident_id: string;
  reason: 'unpublished' | 'deleted' | 'merged';
  withdrawn_at: Timestamp;
}

export interface WebhookEndpointsTable {
  id: Generated<string>;
  organisation_id: string;
  key_id: string;
  url: string;
  event_types: string[];
  filter: Generated<string>;
  description: string | null;
  enabled: Generated<boolean>;
  disabled_reason: string | null;
  disabled_at: NullableTimestamp;
  last_success_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookSecretsTable {
  id: Generated<string>;
  endpoint_id: string;
  secret: string;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
}

/** The transactional outbox: written in the transaction of the change. */
export interface WebhookEventsTable {
  id: Generated<string>;
  type: string;
  incident_id: string | null;
  organisation_id: string;
  was_published: Generated<boolean>;
  merged_into: string | null;
  detail: ColumnType<unknown, string | null | undefined, string | null>;
  order_key: string;
  occurred_at: Timestamp;
  fanned_out_at: NullableTimestamp;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  order_key: string;
  payload: string;
  status: ColumnType<
    'pending' | 'succeeded' | 'failed',
    'pending' | 'succeeded' | 'failed' | undefined,
    'pending' | 'succeeded' | 'failed'
  >;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_until: NullableTimestamp;
  first_failed_at: NullableTimestamp;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  committed_at: Timestamp;
  created_at: Timestamp;
  delivered_at: NullableTimestamp;
}

export interface PushTables {
  incident_withdrawals: IncidentWithdrawalsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_secrets: WebhookSecretsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
