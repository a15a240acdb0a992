import { sql } from 'kysely';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import type { AccessGroup, IncidentAccess } from './access-group.schemas.ts';

export async function listAccessGroups(db: DbOrTransaction, organisationId: string, ids?: string[]): Promise<AccessGroup[]> {
  let query = db
    .selectFrom('access_groups as g')
    .select(['g.id', 'g.name', 'g.created_at'])
    .select(
      sql<string[]>`coalesce((select array_agg(m.key_id order by m.key_id) from access_group_members m where m.group_id = g.id), '{}')`.as(
        'member_key_ids',
      ),
    )
    .where('g.organisation_id', '=', organisationId)
    .orderBy('g.name');
  if (ids) query = query.where('g.id', 'in', ids.length ? ids : ['00000000-0000-0000-0000-000000000000']);
  const rows = await query.execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    memberKeyIds: [...(row.member_key_ids as string[])].sort(),
  }));
}

export async function findAccessGroup(db: DbOrTransaction, organisationId: string, id: string): Promise<AccessGroup | undefined> {
  return (await listAccessGroups(db, organisationId, [id]))[0];
}

export async function lockAccessGroup(db: DbOrTransaction, organisationId: string, id: string) {
  return db
    .selectFrom('access_groups')
    .select('id')
    .where('id', '=', id)
    .where('organisation_id', '=', organisationId)
    .forUpdate()
    .executeTakeFirst();
}

export async function findGroupByName(db: DbOrTransaction, organisationId: string, name: string) {
  return db
    .selectFrom('access_groups')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function insertAccessGroup(db: DbOrTransaction, organisationId: string, name: string) {
  return db.insertInto('access_groups').values({ organisation_id: organisationId, name }).returning('id').executeTakeFirstOrThrow();
}

export async function renameAccessGroupRow(db: DbOrTransaction, id: string, name: string) {
  await db.updateTable('access_groups').set({ name }).where('id', '=', id).execute();
}

/** How many incidents and victims the group restricts: a group in use cannot be deleted. */
export async function restrictionsOf(db: DbOrTransaction, groupId: string) {
  const [incidents, victims] = await Promise.all([
    db
      .selectFrom('incident_access_groups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('group_id', '=', groupId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('victim_access_groups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('group_id', '=', groupId)
      .executeTakeFirstOrThrow(),
  ]);
  return { incidents: Number(incidents.n), victims: Number(victims.n) };
}

export async function deleteAccessGroupRow(db: DbOrTransaction, id: string) {
  await db.deleteFrom('access_groups').where('id', '=', id).execute();
}

/** A live key of the organisation (not revoked). */
export async function findOwnKey(db: DbOrTransaction, organisationId: string, keyId: string) {
  return db
    .selectFrom('api_keys')
    .select('id')
    .where('id', '=', keyId)
    .where('organisation_id', '=', organisationId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function addMember(db: DbOrTransaction, groupId: string, keyId: string) {
  await db
    .insertInto('access_group_members')
    .values({ group_id: groupId, key_id: keyId })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function removeMember(db: DbOrTransaction, groupId: string, keyId: string) {
  await db.deleteFrom('access_group_members').where('group_id', '=', groupId).where('key_id', '=', keyId).execute();
}

/** A live incident of the organisation, locked so that its restriction changes one at a time. */
export async function lockOwnIncidentForAccess(db: DbOrTransaction, organisationId: string, incidentId: string) {
  return db
    .selectFrom('incidents')
    .select('id')
    .where('id', '=', incidentId)
    .where('organisation_id', '=', organisationId)
    .where('deleted_at', 'is', null)
    .where('merged_into', 'is', null)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

export async function findVictim(db: DbOrTransaction, incidentId: string, victimId: string) {
  return db
    .selectFrom('victims')
    .select(['id', 'protected'])
    .where('id', '=', victimId)
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
}

export async function findIncidentAccess(db: DbOrTransaction, incidentId: string): Promise<IncidentAccess> {
  const [incident, victims] = await Promise.all([
    db.selectFrom('incident_access_groups').select('group_id').where('incident_id', '=', incidentId).orderBy('group_id').execute(),
    // Only victims still in the incident (a removed victim's restriction stays, harmlessly, until its id comes back).
    db
      .selectFrom('victim_access_groups as r')
      .innerJoin('victims as v', (join) => join.onRef('v.id', '=', 'r.victim_id').onRef('v.incident_id', '=', 'r.incident_id'))
      .select(['r.victim_id', 'r.group_id'])
      .where('r.incident_id', '=', incidentId)
      .orderBy('r.victim_id')
      .orderBy('r.group_id')
      .execute(),
  ]);
  const byVictim = new Map<string, string[]>();
  for (const row of victims) byVictim.set(row.victim_id, [...(byVictim.get(row.victim_id) ?? []), row.group_id]);
  return {
    incidentId,
    groupIds: incident.map((row) => row.group_id),
    victims: [...byVictim].map(([victimId, groupIds]) => ({ victimId, groupIds })),
  };
}

export async function replaceIncidentGroups(db: DbOrTransaction, incidentId: string, groupIds: string[]) {
  await db.deleteFrom('incident_access_groups').where('incident_id', '=', incidentId).execute();
  if (groupIds.length) {
    await db
      .insertInto('incident_access_groups')
      .values(groupIds.map((groupId) => ({ incident_id: incidentId, group_id: groupId })))
      .execute();
  }
}

export async function replaceVictimGroups(db: DbOrTransaction, incidentId: string, victimId: string, groupIds: string[]) {
  await db.deleteFrom('victim_access_groups').where('victim_id', '=', victimId).execute();
  if (groupIds.length) {
    await db
      .insertInto('victim_access_groups')
      .values(groupIds.map((groupId) => ({ victim_id: victimId, incident_id: incidentId, group_id: groupId })))
      .execute();
  }
}

/** Of these group ids, those that are not groups of the organisation. */
export async function foreignGroups(db: DbOrTransaction, organisationId: string, groupIds: string[]): Promise<string[]> {
  if (!groupIds.length) return [];
  const rows = await db
    .selectFrom('access_groups')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .where('id', 'in', groupIds)
    .execute();
  const own = new Set(rows.map((row) => row.id));
  return groupIds.filter((id) => !own.has(id));
}
