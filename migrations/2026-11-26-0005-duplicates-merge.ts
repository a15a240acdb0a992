import { sql, type Kysely } from 'kysely';

/**
 * Duplicates and merges. victims.name_key holds each victim's normalised name, words sorted
 * (the application fills it on every write, see src/incidents/name-key.ts), under a btree
 * index for equal names and a trigram index for similar ones. duplicate_flags keeps
 * the likely duplicates found when an incident is created or imported. A merged incident is
 * kept, marked merged_into its survivor: nothing is deleted.
 */
const statements = [
  sql`alter table incidents
    add column merged_into uuid references incidents (id),
    add column merged_at timestamptz,
    add constraint incidents_merged_check check ((merged_into is null) = (merged_at is null) and merged_into <> id)`,
  sql`create index incidents_merged_into_idx on incidents (merged_into) where merged_into is not null`,
  sql`alter table victims add column name_key text`,
  sql`create index victims_name_key_idx on victims (name_key)`,
  sql`create index victims_name_key_trgm_idx on victims using gin (name_key gin_trgm_ops)`,
  sql`create table duplicate_flags (
    incident_id uuid not null references incidents (id),
    candidate_id uuid not null references incidents (id),
    score double precision not null check (score between 0 and 1),
    reasons jsonb not null,
    created_at timestamptz not null default now(),
    resolved boolean not null default false,
    primary key (incident_id, candidate_id),
    check (incident_id <> candidate_id)
  )`,
  sql`create index duplicate_flags_candidate_idx on duplicate_flags (candidate_id)`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
  await backfillNameKeys(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists duplicate_flags`.execute(db);
  await sql`drop index if exists victims_name_key_trgm_idx`.execute(db);
  await sql`drop index if exists victims_name_key_idx`.execute(db);
  await sql`alter table victims drop column if exists name_key`.execute(db);
  await sql`drop index if exists incidents_merged_into_idx`.execute(db);
  await sql`alter table incidents drop constraint if exists incidents_merged_check,
    drop column if exists merged_at, drop column if exists merged_into`.execute(db);
}

/** Keys for victims stored before this migration, in batches. */
async function backfillNameKeys(db: Kysely<any>) {
  for (let after = '00000000-0000-0000-0000-000000000000'; ;) {
    const rows = await db
      .selectFrom('victims')
      .select(['id', 'name', 'name_original'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(5000)
      .execute();
    if (rows.length === 0) return;
    const keyed = rows
      .map((row) => ({ id: row.id as string, key: frozenNameKey(row.name) ?? frozenNameKey(row.name_original) }))
      .filter((row) => row.key !== null);
    if (keyed.length) {
      await sql`update victims set name_key = v.key
        from (values ${sql.join(keyed.map((row) => sql`(${row.id}::uuid, ${row.key})`))}) as v (id, key)
        where victims.id = v.id`.execute(db);
    }
    after = rows.at(-1)!.id;
  }
}

// A frozen copy of src/incidents/search-text.ts normalizeForSearch and src/incidents/name-key.ts
// as of this migration: a later change to them must not change what this migration did. (A later
// change to them needs a migration that recomputes victims.name_key, or old keys stop matching.)
function frozenNameKey(name: string | null): string | null {
  if (!name) return null;
  const folded: Record<string, string> = { ı: 'i', ł: 'l', ø: 'o', ß: 'ss', đ: 'd', æ: 'ae', œ: 'oe', þ: 'th' };
  const words = name
    .normalize('NFKD')
    .replace(/\p{Mn}/gu, '')
    .toLowerCase()
    .replace(/[ıłøßđæœþ]/g, (letter) => folded[letter] ?? letter)
    .replace(/['’ʿʾ`]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  const joined: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    if (/^abd(ul|al|el|ol)?$/.test(word) && index + 1 < words.length) {
      let next = index + 1;
      if (/^(al|el|ul)$/.test(words[next]!) && next + 1 < words.length) next++;
      joined.push(`abd${words[next]}`);
      index = next;
      continue;
    }
    if (/^(al|el)$/.test(word)) continue;
    joined.push(word);
  }
  const key = joined
    .map((word) =>
      word
        .replace(/^abd(ul|al|el|ol)(?=\p{L}{3})/u, 'abd')
        .replace(/q/g, 'k')
        .replace(/ou/g, 'u')
        .replace(/(\p{L})\1+/gu, '$1'),
    )
    .join(' ');
  const placeholders = [
    'unidentified',
    'unknown',
    'unamed',
    'anonymus',
    'no name',
    'name unknown',
    'name witheld',
    'ful name unavailable',
    'n a',
  ];
  return key && !placeholders.includes(key) ? key.split(' ').sort().join(' ') : null;
}
