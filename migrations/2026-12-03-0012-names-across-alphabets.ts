import { sql, type Kysely } from 'kysely';
import { victimNameKey } from '../src/incidents/name-key.ts';
import { publicSearchText } from '../src/incidents/search-text.ts';

/**
 * Names across alphabets (issue 13): the normaliser now transliterates Arabic, Persian and
 * Cyrillic script, handles more article and "Abd" forms, and adds consonant skeletons
 * (src/incidents/search-text.ts). incidents.search_text gains the skeletons of public victims'
 * names ("~jrf~ ~nj~"), and victims.name_key now holds the name's skeleton key ("jrf nj") instead
 * of its readable key. No column changes; this recomputes both for the rows stored before it,
 * in batches, on PostgreSQL and PGlite alike.
 *
 * Unlike 0005, this migration calls the application's normaliser rather than a frozen copy: its
 * only job is to bring stored rows up to the normaliser the code has, and a copy of several
 * hundred lines of transliteration tables would drift from it. A later change to the normaliser
 * needs a migration like this one (a copy of this file under a new date) to recompute the rows again;
 * running this one again then is harmless (it rewrites only rows whose value changes).
 *
 * Neither column feeds the derived tables (incident_facts, incident_lists): their triggers are
 * deferred for these updates (migration 0009's switch) and nothing needs refreshing. The data
 * version is bumped as for any write: search answers change. On a large database this takes
 * a while (the 1M-incident bench dataset: minutes); it runs once.
 */
const BATCH = 1000;

export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ previous: string | null }>`select current_setting('dateline.defer_derived', true) as previous`.execute(db);
  await sql`select set_config('dateline.defer_derived', 'on', true)`.execute(db);
  try {
    await recomputeSearchText(db);
    await recomputeNameKeys(db);
  } finally {
    await sql`select set_config('dateline.defer_derived', ${rows[0]?.previous ?? ''}, true)`.execute(db);
  }
}

/** Nothing to undo: the previous normaliser's values are not kept, and the columns are unchanged. */
export async function down(): Promise<void> {}

interface IncidentRow {
  id: string;
  title: string;
  description: string | null;
  search_text: string;
  victims: Array<{ name: string | null; name_original: string | null; aliases: string[]; outlet: string | null; protected: boolean }>;
  claims: Array<{ actor_name: string }>;
}

async function recomputeSearchText(db: Kysely<any>) {
  for (let after = '00000000-0000-0000-0000-000000000000'; ;) {
    const { rows } = await sql<IncidentRow>`select i.id, i.title, i.description, i.search_text,
        coalesce((select json_agg(json_build_object('name', v.name, 'name_original', v.name_original, 'aliases', v.aliases,
          'outlet', v.outlet, 'protected', v.protected) order by v.position) from victims v where v.incident_id = i.id), '[]') as victims,
        coalesce((select json_agg(json_build_object('actor_name', c.actor_name) order by c.position)
          from perpetrator_claims c where c.incident_id = i.id), '[]') as claims
      from incidents i where i.id > ${after}::uuid order by i.id limit ${BATCH}`.execute(db);
    if (rows.length === 0) return;
    const changed = rows
      .map((row) => ({
        id: row.id,
        old: row.search_text,
        text: publicSearchText({
          title: row.title,
          description: row.description,
          victims: row.victims.map((victim) => ({ ...victim, nameOriginal: victim.name_original })),
          perpetratorClaims: row.claims.map((claim) => ({ actorName: claim.actor_name })),
        }),
      }))
      .filter((row) => row.text !== row.old);
    if (changed.length) {
      await sql`update incidents set search_text = v.text
        from (values ${sql.join(changed.map((row) => sql`(${row.id}::uuid, ${row.text})`))}) as v (id, text)
        where incidents.id = v.id`.execute(db);
    }
    after = rows.at(-1)!.id;
  }
}

async function recomputeNameKeys(db: Kysely<any>) {
  for (let after = '00000000-0000-0000-0000-000000000000'; ;) {
    const { rows } = await sql<{ id: string; name: string | null; name_original: string | null; name_key: string | null }>`
      select id, name, name_original, name_key from victims where id > ${after}::uuid order by id limit ${BATCH * 5}`.execute(db);
    if (rows.length === 0) return;
    const changed = rows.map((row) => ({ id: row.id, old: row.name_key, key: victimNameKey(row) })).filter((row) => row.key !== row.old);
    if (changed.length) {
      await sql`update victims set name_key = v.key
        from (values ${sql.join(changed.map((row) => sql`(${row.id}::uuid, ${row.key}::text)`))}) as v (id, key)
        where victims.id = v.id`.execute(db);
    }
    after = rows.at(-1)!.id;
  }
}
