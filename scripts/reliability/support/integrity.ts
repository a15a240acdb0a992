import { sql } from 'kysely';
import type { Db } from '../../../src/db/create-db.ts';
import type { AcknowledgedWrites } from './incidents.ts';
import type { Report } from './report.ts';

/**
 * What must hold after any crash: no row outlives its incident, every incident has its creation
 * in the audit log, no audit record names an incident that does not exist, and each incident's
 * version counts its audited changes (create = version 1, every later change bumps it once).
 */
const orphanQueries = {
  victims: sql<{ n: number }>`select count(*) as n from victims c where not exists (select 1 from incidents i where i.id = c.incident_id)`,
  perpetrator_claims: sql<{
    n: number;
  }>`select count(*) as n from perpetrator_claims c where not exists (select 1 from incidents i where i.id = c.incident_id)`,
  sources: sql<{ n: number }>`select count(*) as n from sources c where not exists (select 1 from incidents i where i.id = c.incident_id)`,
  duplicate_flags: sql<{ n: number }>`select count(*) as n from duplicate_flags c
    where not exists (select 1 from incidents i where i.id = c.incident_id) or not exists (select 1 from incidents i where i.id = c.candidate_id)`,
};

const unauditedIncidents = sql<{ n: number }>`select count(*) as n from incidents i
  where not exists (select 1 from audit_log a where a.entity_type = 'incident' and a.entity_id = i.id and a.action = 'incident.create')`;
const auditWithoutIncident = sql<{ n: number }>`select count(*) as n from audit_log a
  where a.entity_type = 'incident' and not exists (select 1 from incidents i where i.id = a.entity_id)`;
const versionNotAudited = sql<{ n: number }>`select count(*) as n from incidents i
  where i.version <> (select count(*) from audit_log a where a.entity_type = 'incident' and a.entity_id = i.id)`;

export async function checkIntegrity(db: Db, report: Report): Promise<void> {
  const count = async (query: typeof unauditedIncidents) => Number((await query.execute(db)).rows[0]!.n);
  const orphans: string[] = [];
  for (const [table, query] of Object.entries(orphanQueries)) {
    const n = await count(query);
    if (n) orphans.push(`${table}: ${n}`);
  }
  report.check('no orphan victims, claims, sources or duplicate flags', orphans.length === 0, orphans.join(', '));
  const unaudited = await count(unauditedIncidents);
  report.check('every incident has its incident.create audit record', unaudited === 0, unaudited ? `${unaudited} without` : '');
  const dangling = await count(auditWithoutIncident);
  report.check('no audit record of a missing incident', dangling === 0, dangling ? `${dangling} records` : '');
  const mismatched = await count(versionNotAudited);
  report.check(
    'every incident version = its number of audit records',
    mismatched === 0,
    mismatched ? `${mismatched} incidents differ` : '',
  );
}

/**
 * Every write the API acknowledged with 2xx must be in the database: a create by its id, an
 * update by its audit record (written in the same transaction, with the version it answered).
 */
export async function checkAcknowledged(db: Db, writes: AcknowledgedWrites, report: Report): Promise<void> {
  const present = new Set<string>();
  for (let i = 0; i < writes.creates.length; i += 1000) {
    const ids = writes.creates.slice(i, i + 1000);
    for (const row of await db.selectFrom('incidents').select('id').where('id', 'in', ids).execute()) present.add(row.id);
  }
  const missingCreates = writes.creates.filter((id) => !present.has(id)).length;
  const audited = new Set<string>();
  const rows = await sql<{ entity_id: string; version: number }>`select entity_id, (after->>'version')::int as version
    from audit_log where entity_type = 'incident' and action = 'incident.update'`.execute(db);
  for (const row of rows.rows) audited.add(`${row.entity_id}:${row.version}`);
  const missingUpdates = writes.updates.filter(({ id, version }) => !audited.has(`${id}:${version}`)).length;
  report.figure('writes acknowledged (2xx)', `${writes.creates.length} creates, ${writes.updates.length} updates`);
  report.check(
    'every acknowledged write is in the database',
    missingCreates + missingUpdates === 0,
    `${missingCreates} creates, ${missingUpdates} updates missing`,
  );
}

/** How many of these creates (by their unique titles) reached the database although unanswered. */
export async function appliedOf(db: Db, titles: string[]): Promise<number> {
  if (!titles.length) return 0;
  const row = await db
    .selectFrom('incidents')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('title', 'in', titles)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
