import { sql } from 'kysely';
import type { Db } from '../db/create-db.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { insertKey, KEYRING_REFRESH_MS, loadKeyring, readDataKeys, unwrapKey, wrapKey } from './keyring.ts';
import { resealDocument } from './sealed-document.ts';
import { reseal, sealedPlace } from './sealed-value.ts';

/**
 * `npm run keys -- rotate-data-key`: a new data key, every sealed value re-encrypted under it in
 * short transactions (BATCH rows each, locked FOR UPDATE, so a concurrent edit of a row waits
 * for its batch, or the batch for the edit, and neither loses the other's value), then the old
 * key retired. The API keeps serving meanwhile:
 * 1. the new key is stored, and the rotation waits longer than servers take to re-read the keys
 *    (keyring.ts, KEYRING_REFRESH_MS), so from then on every server seals with it and opens it;
 * 2. each place that holds sealed values is re-sealed, batch by batch, until a whole pass finds
 *    nothing left under an old key (a server that sealed with the old key just before it learned
 *    the new one is caught by that last pass);
 * 3. the old key gets retired_at: it never seals again. It still opens, so that a value a lagging
 *    server sealed with it after the last pass stays readable; the next rotation re-seals it.
 * Interrupted, it is run again: a newer key that is not alone means a rotation in progress, which
 * it continues instead of starting another.
 */
export interface SealedColumn {
  table: string;
  column: string;
  /** SQL over the row: what its values are bound to (the row id, unless the row is known by other columns when sealed). */
  placeKey: string;
  /** Where a value of this column belongs (its associated data), from placeKey. */
  place: (key: string) => string;
  kind: 'text' | 'document';
}

/** Every place a value is sealed (README, "Encryption at rest"). */
export const SEALED_COLUMNS: SealedColumn[] = [
  {
    table: 'victims',
    column: 'identity_sealed',
    placeKey: 'id::text',
    place: (id) => sealedPlace('victims', 'identity_sealed', id),
    kind: 'text',
  },
  {
    table: 'incidents',
    column: 'internal_notes',
    placeKey: 'id::text',
    place: (id) => sealedPlace('incidents', 'internal_notes', id),
    kind: 'text',
  },
  { table: 'audit_log', column: 'before', placeKey: `'*'`, place: () => sealedPlace('audit_log', 'document', '*'), kind: 'document' },
  { table: 'audit_log', column: 'after', placeKey: `'*'`, place: () => sealedPlace('audit_log', 'document', '*'), kind: 'document' },
  { table: 'imports', column: 'report', placeKey: 'id::text', place: (id) => sealedPlace('imports', 'report', id), kind: 'document' },
  {
    table: 'webhook_deliveries',
    column: 'payload',
    placeKey: `endpoint_id::text || '/' || event_id::text`,
    place: (key) => sealedPlace('webhook_deliveries', 'payload', key),
    kind: 'text',
  },
];

const BATCH = 200;

export interface RotationOptions {
  /** How long to wait after storing the new key before re-encrypting (servers re-read keys this often). */
  waitMs?: number;
  log?: (message: string) => void;
}

export async function rotateDataKey(db: Db, kek: Buffer, options: RotationOptions = {}) {
  const log = options.log ?? (() => {});
  let rows = await readDataKeys(db);
  let live = rows.filter((row) => row.purpose === 'data' && !row.retired_at).map((row) => row.id);
  if (live.length <= 1) {
    const id = Math.max(0, ...rows.filter((row) => row.purpose === 'data').map((row) => row.id)) + 1;
    await insertKey(db, kek, id, 'data');
    log(`Created data key ${id}.`);
    rows = await readDataKeys(db);
    live = rows.filter((row) => row.purpose === 'data' && !row.retired_at).map((row) => row.id);
  } else {
    log(`Continuing the rotation to data key ${Math.max(...live)}.`);
  }
  loadKeyring(kek, rows);
  const newest = Math.max(...live);
  // Retired keys too: a value a lagging server sealed after an earlier rotation ended is re-sealed now.
  const old = rows.filter((row) => row.purpose === 'data' && row.id !== newest).map((row) => row.id);
  const retiring = live.filter((id) => id !== newest);
  const waitMs = options.waitMs ?? KEYRING_REFRESH_MS * 3;
  if (waitMs > 0) {
    log(`Waiting ${Math.round(waitMs / 1000)} s for running servers to load data key ${newest}...`);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  for (let pass = 1; ; pass++) {
    let count = 0;
    for (const column of SEALED_COLUMNS) count += await resealColumn(db, column, old);
    log(`Pass ${pass}: re-encrypted ${count} values under data key ${newest}.`);
    if (count === 0) break;
  }
  await sql`update data_keys set retired_at = now() where id = any(${retiring}::int[])`.execute(db);
  loadKeyring(kek, await readDataKeys(db));
  log(retiring.length ? `Retired data key${retiring.length > 1 ? 's' : ''} ${retiring.join(', ')}.` : 'Nothing to retire.');
  return { newKeyId: newest, retired: retiring };
}

/**
 * Values sealed with any of `keyIds`: a text that starts 'dlenc1.<id>.', a document with a
 * '"$sealed": "dlenc1.<id>.' part (inside a document's own strings a quote is escaped, so text
 * someone wrote cannot look like that).
 */
const underKeys = (column: SealedColumn, keyIds: number[]) =>
  sql.join(
    keyIds.map((id) =>
      column.kind === 'text'
        ? sql`${sql.ref(column.column)} like ${`dlenc1.${id}.%`}`
        : sql`${sql.ref(column.column)}::text like ${`%"$sealed": "dlenc1.${id}.%`}`,
    ),
    sql` or `,
  );
const idType = (column: SealedColumn) => sql.raw(column.table === 'audit_log' ? 'bigint' : 'uuid');

async function resealColumn(db: Db, column: SealedColumn, keyIds: number[]): Promise<number> {
  if (keyIds.length === 0) return 0;
  let total = 0;
  for (let after: string | null = null; ;) {
    const batch: { count: number; last: string | null } = await db.transaction().execute(async (trx) => {
      if (column.table === 'audit_log') await sql`select set_config('dateline.resealing_audit', 'on', true)`.execute(trx);
      const { rows } =
        await sql<SealedRow>`select id::text as id, ${sql.raw(column.placeKey)} as place_key, ${sql.ref(column.column)} as value
        from ${sql.table(column.table)} where (${underKeys(column, keyIds)})
        ${after === null ? sql`` : sql`and id > ${after}::${idType(column)}`}
        order by id limit ${BATCH} for update`.execute(trx);
      if (rows.length) await resealRows(trx, column, rows);
      return { count: rows.length, last: rows.at(-1)?.id ?? null };
    });
    total += batch.count;
    if (batch.count < BATCH || batch.last === null) return total;
    after = batch.last;
  }
}

/** One UPDATE for the batch: fewer statements for the triggers of the table to run. */
interface SealedRow {
  id: string;
  place_key: string;
  value: unknown;
}

async function resealRows(trx: DbOrTransaction, column: SealedColumn, rows: SealedRow[]) {
  const values = rows.map((row) => {
    const place = column.place(row.place_key);
    const value = column.kind === 'text' ? reseal(row.value as string, place) : JSON.stringify(resealDocument(row.value, place));
    return sql`(${row.id}::${idType(column)}, ${value}::${sql.raw(column.kind === 'text' ? 'text' : 'jsonb')})`;
  });
  await sql`update ${sql.table(column.table)} as t set ${sql.ref(column.column)} = v.value
    from (values ${sql.join(values)}) as v (id, value) where t.id = v.id`.execute(trx);
}

/**
 * `npm run keys -- rewrap --new-key-file FILE`: the data keys wrapped under a new key-encryption
 * key, in one transaction. Cheap (a few rows), nothing else changes: the sealed values and the
 * blind index stay as they are. Start the servers with the new key afterwards.
 */
export async function rewrapDataKeys(db: Db, oldKek: Buffer, newKek: Buffer) {
  return db.transaction().execute(async (trx) => {
    const rows = await readDataKeys(trx);
    for (const row of rows) {
      const key = unwrapKey(oldKek, row.id, row.purpose, row.wrapped);
      await sql`update data_keys set wrapped = ${wrapKey(newKek, row.id, row.purpose, key)} where id = ${row.id}`.execute(trx);
    }
    return rows.length;
  });
}
