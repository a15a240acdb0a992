import type { ColumnType, Generated } from 'kysely';

/** Sharing of drafts and access groups (migration 0017; README, "Sharing and access groups"). */
export type DraftSharing = 'none' | 'organisations' | 'researchers';

export interface OrganisationDraftSharesTable {
  organisation_id: string;
  shared_with: string;
}

export interface AccessGroupsTable {
  id: Generated<string>;
  organisation_id: string;
  name: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface AccessGroupMembersTable {
  group_id: string;
  key_id: string;
}

export interface IncidentAccessGroupsTable {
  incident_id: string;
  group_id: string;
}

/** No foreign key to victims: their rows are re-inserted, ids kept, on every incident edit. */
export interface VictimAccessGroupsTable {
  victim_id: string;
  incident_id: string;
  group_id: string;
}

export interface AccessTables {
  organisation_draft_shares: OrganisationDraftSharesTable;
  access_groups: AccessGroupsTable;
  access_group_members: AccessGroupMembersTable;
  incident_access_groups: IncidentAccessGroupsTable;
  victim_access_groups: VictimAccessGroupsTable;
}
