import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { ownOrganisation, type Actor } from '../auth/actor.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';

/**
 * Need-to-know access groups (migration 0017), as SQL for the WHERE and SELECT clauses of
 * reads: membership is looked up by the caller's key id in the same query, so authentication
 * knows nothing of groups. An incident or a protected victim restricted to groups is "sealed"
 * from a key in none of them. Only the organisation's own editors and reviewers could see past a
 * group (the full view): for anyone else everything counts as sealed, which costs no lookup and
 * changes nothing, as their research or public view withholds it all anyway. Operator tools
 * (system actors, no key) see everything.
 *
 * A sealed incident is shown to its own organisation's members as a researcher of that
 * organisation sees it (research view); a sealed victim is withheld like a protected victim,
 * in the full view too. Restricting a victim only matters while it is protected: an unprotected
 * victim is in the public record anyway.
 */
const keyIdOf = (actor: Actor) => (actor.kind === 'key' ? actor.keyId : null);

/** Is the restriction of `link` (incident_access_groups or victim_access_groups rows matching `on`) closed to the actor? */
function sealedBy(actor: Actor, table: 'incident_access_groups' | 'victim_access_groups', on: RawBuilder<SqlBool>): RawBuilder<SqlBool> {
  if (actor.kind === 'system') return sql<SqlBool>`false`;
  // Only the organisation's own editors and reviewers can see past what groups guard (full view);
  // everyone else has the research or public view, which withholds it anyway: no lookup for them.
  if (!ownOrganisation(actor)) return sql<SqlBool>`true`;
  const restricted = sql<SqlBool>`exists (select 1 from ${sql.table(table)} r where ${on})`;
  const keyId = keyIdOf(actor);
  if (keyId === null) return restricted;
  return sql<SqlBool>`(${restricted} and not exists (select 1 from ${sql.table(table)} r
    join access_group_members m on m.group_id = r.group_id where ${on} and m.key_id = ${keyId}::uuid))`;
}

/** The incident (`alias`.id) is restricted to groups the actor is not in. */
export function incidentSealedFrom(actor: Actor, alias = 'incidents'): RawBuilder<SqlBool> {
  return sealedBy(actor, 'incident_access_groups', sql<SqlBool>`r.incident_id = ${sql.ref(`${alias}.id`)}`);
}

/** The victim (`alias`.id, a protected one) is restricted to groups the actor is not in. */
export function victimSealedFrom(actor: Actor, alias = 'victims'): RawBuilder<SqlBool> {
  const sealed = sealedBy(actor, 'victim_access_groups', sql<SqlBool>`r.victim_id = ${sql.ref(`${alias}.id`)}`);
  return actor.kind === 'system' ? sealed : sql<SqlBool>`(${sql.ref(`${alias}.protected`)} and ${sealed})`;
}

/** Some protected victim of the incident (`alias`.id) is sealed from the actor. */
export function holdsSealedVictim(actor: Actor, alias = 'incidents'): RawBuilder<SqlBool> {
  if (actor.kind === 'system') return sql<SqlBool>`false`;
  return sql<SqlBool>`exists (select 1 from victims sv where sv.incident_id = ${sql.ref(`${alias}.id`)} and ${victimSealedFrom(actor, 'sv')})`;
}

/**
 * True on the incidents (`alias`) the actor sees in the full view with every victim: their own
 * organisation's, and nothing in them sealed from them. For answers built in SQL that cannot
 * withhold one victim of a list (the CSV's ready-made lists), which then fall back to the
 * public lists for the whole incident.
 */
export function seesAllOf(actor: Actor, alias = 'incidents'): RawBuilder<SqlBool> {
  const own = ownOrganisation(actor);
  if (!own) return sql<SqlBool>`false`;
  return sql<SqlBool>`(${sql.ref(`${alias}.organisation_id`)} = ${own}::uuid and not ${incidentSealedFrom(actor, alias)} and not ${holdsSealedVictim(actor, alias)})`;
}

/**
 * Whether the actor may know a victim's identity (name, gender, nationality...): unprotected,
 * or protected in their own organisation's incident (`incidentAlias`) with neither it nor the
 * victim (`victimAlias`) sealed from them. Statistics, filters and duplicate detection use it so
 * that no count or match depends on what the caller's view withholds.
 */
export function victimOpenTo(
  actor: Actor,
  victimAlias: string,
  incidentAlias: string,
  organisationColumn = 'organisation_id',
): RawBuilder<SqlBool> {
  const own = ownOrganisation(actor);
  const isProtected = sql.ref(`${victimAlias}.protected`);
  if (!own) return sql<SqlBool>`not ${isProtected}`;
  return sql<SqlBool>`(not ${isProtected} or (${sql.ref(`${incidentAlias}.${organisationColumn}`)} = ${own}::uuid
    and not ${sealedBy(actor, 'incident_access_groups', sql<SqlBool>`r.incident_id = ${sql.ref(`${victimAlias}.incident_id`)}`)}
    and not ${sealedBy(actor, 'victim_access_groups', sql<SqlBool>`r.victim_id = ${sql.ref(`${victimAlias}.id`)}`)}))`;
}

/**
 * Whether a write to this incident is closed to the actor: it, or one of its protected
 * victims, is restricted to groups the actor's key is not in. Such a write would show the
 * writer the whole incident (the response and the audit record) or overwrite what they cannot
 * see, so the services refuse it (403).
 */
export async function writeSealedFrom(db: DbOrTransaction, actor: Actor, incidentId: string): Promise<boolean> {
  if (actor.kind === 'system') return false;
  const row = await db
    .selectFrom('incidents')
    .select(sql<boolean>`(${incidentSealedFrom(actor)} or ${holdsSealedVictim(actor)})`.as('sealed'))
    .where('incidents.id', '=', incidentId)
    .executeTakeFirst();
  return row?.sealed === true;
}

/**
 * Whether the incident, or a victim in it, is restricted to any access group. A merge gives the
 * merged incident's victims new rows in the survivor, where its restrictions would not follow,
 * so merge.service.ts refuses to merge away a restricted incident.
 */
export async function hasRestrictions(db: DbOrTransaction, incidentId: string): Promise<boolean> {
  const row = await db
    .selectFrom('incidents')
    .select(
      sql<boolean>`(exists (select 1 from incident_access_groups r where r.incident_id = incidents.id)
        or exists (select 1 from victim_access_groups r join victims v on v.id = r.victim_id where v.incident_id = incidents.id))`.as(
        'restricted',
      ),
    )
    .where('incidents.id', '=', incidentId)
    .executeTakeFirst();
  return row?.restricted === true;
}

export const SEALED_WRITE_MESSAGE =
  "This incident, or a protected victim in it, is restricted to access groups your key is not in, so you may not change it. A member of those groups can, or your organisation's admin can change the groups (PUT /v1/incidents/{id}/access-groups).";
