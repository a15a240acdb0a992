import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { AccessTables, DraftSharing } from './access-tables.ts';
import type { PushTables } from './push-tables.ts';

/**
 * Row types for Kysely, matching migrations/. Column value types follow the parsers set in
 * create-db.ts: `date` columns are 'YYYY-MM-DD' strings, bigint is a number.
 */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json = ColumnType<unknown, string | null, string | null>;

export interface OrganisationsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
  /** Migration 0017: who outside the organisation sees its drafts (src/db/access-tables.ts). */
  draft_sharing: ColumnType<DraftSharing, DraftSharing | undefined, DraftSharing>;
}

export interface ApiKeysTable {
  id: Generated<string>;
  organisation_id: string;
  name: string;
  role: 'admin' | 'editor' | 'reviewer' | 'researcher';
  prefix: string;
  key_hash: string;
  created_at: CreatedAt;
  revoked_at: NullableTimestamp;
  /** Migration 0016: keys with limits (src/auth/scopes.ts, src/auth/last-used.ts). */
  expires_at: NullableTimestamp;
  scopes: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  last_used_at: NullableTimestamp;
  replaced_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface IncidentsTable {
  id: Generated<string>;
  organisation_id: string;
  title: string;
  description: string | null;
  internal_notes: string | null;
  date_start: string;
  date_end: string;
  date_precision: string;
  country: string;
  region: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  coordinate_precision: string | null;
  attack_types: string[];
  verification_status: Generated<string>;
  motive: string | null;
  judicial_outcome: string | null;
  death_type: string | null;
  visibility: Generated<string>;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
  published_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  deleted_reason: string | null;
  search_text: Generated<string>;
  /** Set when the incident was merged into another (src/duplicates/merge.service.ts). */
  merged_into: ColumnType<string | null, string | null | undefined, string | null>;
  merged_at: NullableTimestamp;
}

export interface VictimsTable {
  id: Generated<string>;
  incident_id: string;
  position: number;
  name: string | null;
  name_original: string | null;
  aliases: string[];
  role: string | null;
  gender: string | null;
  nationality: string | null;
  outlet: string | null;
  locality: string | null;
  employment: string | null;
  outcome: string | null;
  protected: boolean;
  /** The name's sorted skeleton key (src/incidents/name-key.ts), kept with the victim for duplicate lookups. */
  name_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** Migration 0018: a protected victim's identity, sealed, and the blind index of its names (src/incidents/sealed-fields.ts). */
  identity_sealed: ColumnType<string | null, string | null | undefined, string | null>;
  name_blind: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

export interface PerpetratorClaimsTable {
  id: Generated<string>;
  incident_id: string;
  position: number;
  actor_name: string;
  actor_type: string;
  attribution: string;
  attributed_by: string | null;
  statement: string | null;
}

export interface SourcesTable {
  id: Generated<string>;
  incident_id: string;
  position: number;
  url: string | null;
  publisher: string | null;
  title: string | null;
  published_on: string | null;
  kind: string;
  public: boolean;
}

export interface VerificationChangesTable {
  id: Generated<string>;
  incident_id: string;
  from_status: string;
  to_status: string;
  note: string;
  changed_by: string | null;
  changed_at: CreatedAt;
  /** The import that recorded this entry as history of another instance (migration 0011); null for a change made here. */
  import_id: Generated<string | null>;
  /** Who made an imported change, as the original instance named them. */
  changed_by_name: Generated<string | null>;
}

export interface AuditLogTable {
  id: Generated<number>;
  occurred_at: CreatedAt;
  action: string;
  entity_type: string;
  entity_id: string;
  organisation_id: string | null;
  actor_key_id: string | null;
  actor_role: string | null;
  request_id: string | null;
  before: Json;
  after: Json;
  /** The hash chain (migration 0015, src/audit/audit-chain.ts): 1, 2, 3... in id order. */
  chain_position: number;
  /** The hash of the record before (64 zeros for the first), and SHA-256 over it and this record's content. */
  prev_hash: string;
  hash: string;
}

/** One narrow row per live incident for the statistics (migration 0006, kept by triggers). */
export interface IncidentFactsTable {
  incident_id: string;
  organisation_id: string;
  date_start: string;
  date_end: string;
  /** Bit n set for the n-th value of the fact_attack_type enum; see fact_attack_mask(). */
  attack_mask: number;
  victims: number;
  victims_killed: number;
  verification_status: string;
  published: boolean;
  /** Set when the date range lies in one year. */
  year: number | null;
  /** First day of the month, when the date range lies in one month. */
  month: string | null;
  motive: string | null;
  judicial_outcome: string | null;
  country: string;
  death_type: string | null;
  /** Bit n set for the n-th fact_actor_type among the incident's claims (migration 0014); 0 without claims. */
  actor_mask: number;
  /** The same for the claims' attributions. */
  attribution_mask: number;
}

/**
 * Each incident's public document as stored JSON text (migration 0019); null while stale, until
 * src/incidents/incident-documents.ts stores it again.
 */
export interface IncidentDocumentsTable {
  incident_id: string;
  public_document: string | null;
}

/**
 * The ';'-joined child lists of an incident's CSV record (migration 0008), kept by triggers on
 * victims, perpetrator_claims and sources; `public_*` as the public sees them. An incident
 * without children may have no row.
 */
export interface IncidentListsTable {
  incident_id: string;
  victim_count: number;
  victims_killed: number;
  victim_roles: string;
  victim_outcomes: string;
  victim_protected: string;
  victim_names: string;
  victim_genders: string;
  victim_nationalities: string;
  victim_outlets: string;
  public_victim_names: string;
  public_victim_genders: string;
  public_victim_nationalities: string;
  public_victim_outlets: string;
  perpetrators: string;
  source_titles: string;
  source_urls: string;
  source_kinds: string;
  source_public: string;
  public_source_titles: string;
  public_source_urls: string;
  public_source_kinds: string;
  public_source_public: string;
}

/** Likely duplicates found when an incident was written (src/duplicates/). */
export interface DuplicateFlagsTable {
  incident_id: string;
  candidate_id: string;
  score: number;
  reasons: ColumnType<unknown, string, string>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  resolved: Generated<boolean>;
}

export interface DataVersionTable {
  id: Generated<boolean>;
  version: number;
  changed_at: Date;
}

export interface AppMetaTable {
  key: string;
  value: Json;
}

/** Feeds and webhooks: src/db/push-tables.ts; sharing and access groups: src/db/access-tables.ts. */
export interface Database extends PushTables, AccessTables {
  organisations: OrganisationsTable;
  api_keys: ApiKeysTable;
  incidents: IncidentsTable;
  incident_facts: IncidentFactsTable;
  incident_lists: IncidentListsTable;
  incident_documents: IncidentDocumentsTable;
  victims: VictimsTable;
  perpetrator_claims: PerpetratorClaimsTable;
  sources: SourcesTable;
  verification_changes: VerificationChangesTable;
  audit_log: AuditLogTable;
  app_meta: AppMetaTable;
  data_version: DataVersionTable;
  duplicate_flags: DuplicateFlagsTable;
}

export type IncidentRow = Selectable<IncidentsTable>;
export type NewIncidentRow = Insertable<IncidentsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
