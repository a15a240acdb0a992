import { readFileSync } from 'node:fs';
import os from 'node:os';
import { sql } from 'kysely';
import { stringify } from 'csv-stringify/sync';
import type { KeyActor } from '../src/auth/actor.ts';
import { insertApiKey } from '../src/auth/api-key.queries.ts';
import type { WriteContext } from '../src/audit/audit.queries.ts';
import { createDb, type DbHandle } from '../src/db/create-db.ts';
import { deferDerivedTables } from '../src/db/derived-tables.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startEncryption } from '../src/incidents/encryption-start.ts';
import { flagDuplicates } from '../src/duplicates/duplicate.service.ts';
import { decodeUtf8 } from '../src/imports/csv-records.ts';
import { planImport } from '../src/imports/import-plan.ts';
import { runImport, type ImportRequest } from '../src/imports/import.service.ts';
import { createIncidentSchema } from '../src/incidents/incident.schemas.ts';
import { insertIncident, replaceVictims } from '../src/incidents/incident-writes.queries.ts';
import { insertOrganisation } from '../src/organisations/organisation.queries.ts';
import { dictionary } from './dictionary.ts';
import { ms, percentile } from './stats.ts';

/**
 * Scenarios i and j of npm run bench (not tests):
 * i. 100,000 generated native rows imported into a fresh, empty database (created and dropped
 *    here) through runImport, the service POST /v1/imports uses: parse + validate alone, then the
 *    whole import without and with duplicate detection, each into a new database, and the floor:
 *    the same rows written again by SQL alone (copyFloor).
 * j. Duplicate flagging of one create on the benchmark dataset (1M incidents): the incident is
 *    written and flagged inside a transaction that is rolled back, so the dataset stays as it is.
 */
const IMPORT_DATABASE = 'dateline_bench_imports';
const IMPORT_ROWS = 100_000;
const log = (message = '') => console.log(message);
const loadAverage = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');

/** Deterministic picks without a random generator: a 32-bit hash (murmur3's finaliser) of row and salt chooses an element. */
function pick<T>(list: readonly T[], row: number, salt: number): T {
  let hash = Math.imul(row ^ Math.imul(salt + 1, 0x9e3779b1), 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return list[(hash >>> 0) % list.length]!;
}
const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ra',
  'te',
  'su',
  'no',
  'vi',
  'da',
  'ze',
  'po',
  'ghu',
  'lan',
  'sor',
  'tem',
  'bar',
  'kin',
  'mol',
  'yas',
  'dur',
];
const HEADER = [
  'title',
  'description',
  'internal_notes',
  'date_precision',
  'date_start',
  'date_end',
  'country',
  'region',
  'city',
  'latitude',
  'longitude',
  'coordinate_precision',
  'attack_types',
  'motive',
  'judicial_outcome',
  'victim_count',
  'victim_names',
  'victim_roles',
  'victim_outcomes',
  'perpetrators',
  'source_titles',
  'source_urls',
];

function victimName(row: number, victim: number) {
  const surname = [0, 1, 2].map((part) => pick(SYLLABLES, row * 7 + victim, part + 3)).join('');
  return `${pick(dictionary.first, row, victim + 11)} ${surname[0]!.toUpperCase()}${surname.slice(1)}`;
}

function date(row: number): [string, string, string] {
  const day = new Date(Date.UTC(1995 + (row % 30), 0, 1) + (row % 365) * 86_400_000).toISOString().slice(0, 10);
  const precision = pick(['day', 'day', 'day', 'month', 'year', 'range'], row, 1);
  if (precision === 'month') {
    const end = new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)), 0)).toISOString().slice(0, 10);
    return [precision, `${day.slice(0, 8)}01`, end];
  }
  if (precision === 'year') return [precision, `${day.slice(0, 4)}-01-01`, `${day.slice(0, 4)}-12-31`];
  if (precision === 'range') return [precision, day, new Date(Date.parse(day) + 9 * 86_400_000).toISOString().slice(0, 10)];
  return [precision, day, day];
}

/** One native-format row (the columns of Dateline's CSV export); one in 50 repeats an earlier row's victim, place and date. */
function nativeRow(row: number): string[] {
  const source = row % 50 === 49 ? row - 37 : row;
  const place = pick(dictionary.place_pick, source, 2) - 1;
  const attack = pick(dictionary.attack, row, 3);
  const victims = Array.from({ length: pick([1, 1, 1, 2, 2, 3], source, 4) }, (_, victim) => victimName(source, victim));
  const coordinates = dictionary.place_lat[place] !== null && row % 3 === 0;
  const claims = Array.from({ length: pick([0, 0, 1, 1, 2], row, 5) }, (_, claim) => {
    const actor = pick(
      dictionary.actor.map((_, index) => index),
      row,
      6 + claim,
    );
    return `${dictionary.actor[actor]} (${dictionary.actor_type[actor]}, ${pick(dictionary.attribution_pick, row, 8 + claim)})`;
  });
  return [
    `${dictionary.attack_title[dictionary.attack.indexOf(attack)]} in ${dictionary.place_label[place]}`,
    row % 3 ? pick(dictionary.description, row, 9) : '',
    row % 10 === 0 ? 'Source asked not to be named.' : '',
    ...date(source),
    dictionary.place_country[place]!,
    dictionary.place_region[place] ?? '',
    dictionary.place_city[place] ?? '',
    coordinates ? String(dictionary.place_lat[place]) : '',
    coordinates ? String(dictionary.place_lon[place]) : '',
    coordinates ? 'city' : '',
    attack,
    pick(dictionary.motive_pick, row, 10) ?? '',
    pick(dictionary.judicial_pick, row, 11) ?? '',
    String(victims.length),
    victims.join(';'),
    victims.map((_, victim) => pick(dictionary.role_pick, row, 12 + victim)).join(';'),
    victims.map((_, victim) => pick(dictionary.outcome_pick, row, 15 + victim)).join(';'),
    claims.join(';'),
    `Report on incident ${row}`,
    `https://news.example.org/${row}`,
  ];
}

export function generateNativeFile(rows: number): Buffer {
  return Buffer.from(stringify([HEADER, ...Array.from({ length: rows }, (_, row) => nativeRow(row))]));
}

async function withFreshDatabase<T>(serverUrl: string, work: (handle: DbHandle) => Promise<T>): Promise<T> {
  const url = (name: string) => Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
  const admin = await createDb({ databaseUrl: url('postgres') });
  const recreate = async (create: boolean) => {
    await sql`drop database if exists ${sql.id(IMPORT_DATABASE)} with (force)`.execute(admin.db);
    if (create) await sql`create database ${sql.id(IMPORT_DATABASE)}`.execute(admin.db);
  };
  try {
    await recreate(true);
    const handle = await createDb({ databaseUrl: url(IMPORT_DATABASE), poolMax: 2 });
    try {
      await migrateToLatest(handle.db);
      await startEncryption(handle.db, { key: process.env.DATA_ENCRYPTION_KEY });
      return await work(handle);
    } finally {
      await handle.db.destroy();
    }
  } finally {
    await recreate(false);
    await admin.db.destroy();
  }
}

async function importOnce(serverUrl: string, bytes: Buffer, detectDuplicates: boolean, chunkSize?: number) {
  return withFreshDatabase(serverUrl, async ({ db }) => {
    const organisation = await insertOrganisation(db, 'Bench importers');
    const key = await insertApiKey(db, { organisationId: organisation.id, name: 'bench import', role: 'editor' });
    const context: WriteContext = {
      actor: { kind: 'key', keyId: key.id, organisationId: organisation.id, role: 'editor' },
      requestId: 'bench-import',
    };
    const request: ImportRequest = {
      organisationId: organisation.id,
      format: 'native',
      fileName: 'bench.csv',
      bytes,
      onError: 'abort',
      onDuplicate: 'create',
      visibility: 'draft',
    };
    const cpu = await cpuMeter(db);
    const started = performance.now();
    const outcome = await runImport(db, context, request, { chunkSize, ...(detectDuplicates ? {} : { hooks: {} }) });
    const seconds = (performance.now() - started) / 1000;
    const used = await cpu();
    if (outcome.kind !== 'imported') throw new Error(`the generated file was not imported: ${outcome.kind}`);
    const flagged = outcome.report.created.filter((row) => row.duplicates?.length).length;
    if (detectDuplicates) return { seconds, cpu: used, created: outcome.report.counts.created, flagged };
    const floorCpu = await cpuMeter(db);
    const floorSeconds = await copyFloor(db);
    return { seconds, cpu: used, created: outcome.report.counts.created, flagged, floor: { seconds: floorSeconds, cpu: await floorCpu() } };
  });
}

/**
 * CPU seconds spent from now on by the PostgreSQL backends of this database (from /proc: the
 * bench runs beside its server) and by this Node process. On a shared machine the wall times of
 * two runs compare badly; the CPU each side used compares better. Backends of other databases
 * (other people's work) are not counted. Undefined where /proc cannot be read.
 */
async function cpuMeter(db: DbHandle['db']): Promise<() => Promise<{ postgres?: number; node: number }>> {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const backends = async () => {
    const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(db);
    const times = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        times.set(pid, (Number(fields[11]) + Number(fields[12])) / ticksPerSecond); // utime + stime
      } catch {
        return undefined;
      }
    }
    return times;
  };
  const before = await backends();
  const nodeBefore = process.cpuUsage();
  return async () => {
    const node = process.cpuUsage(nodeBefore);
    const after = await backends();
    const postgres = before && after ? [...after].reduce((sum, [pid, seconds]) => sum + seconds - (before.get(pid) ?? 0), 0) : undefined;
    return { postgres, node: (node.user + node.system) / 1e6 };
  };
}
const cpuText = (cpu: { postgres?: number | undefined; node: number }) =>
  `CPU: PostgreSQL ${cpu.postgres === undefined ? '-' : `${cpu.postgres.toFixed(1)} s`}, Node ${cpu.node.toFixed(1)} s`;

/**
 * The import's SQL floor: the rows it just wrote (incidents, children, audit records) written
 * again by PostgreSQL alone, INSERT ... SELECT with new ids, in one transaction with the derived
 * tables deferred as the import defers them, then rolled back. No JSON, no Node, no validation:
 * what the same rows cost the one backend an all-or-nothing import runs in.
 */
async function copyFloor(db: DbHandle['db']): Promise<number> {
  const started = performance.now();
  await db
    .transaction()
    .execute(async (trx) => {
      await deferDerivedTables(trx);
      await sql`create temp table floor_ids on commit drop as select id as old_id, gen_random_uuid() as new_id from incidents`.execute(trx);
      const copy = async (table: string, key: 'id' | 'incident_id' | 'entity_id', where = sql``) => {
        const { rows } = await sql<{ column_name: string }>`select column_name from information_schema.columns
        where table_name = ${table} and table_schema = current_schema() and is_generated = 'NEVER' and identity_generation is null order by ordinal_position`.execute(
          trx,
        );
        const columns = rows.map((row) => row.column_name);
        // The audit chain's positions are unique (migration 0015): the copies continue after the head.
        const value = (column: string) =>
          column === key
            ? sql`m.new_id`
            : column === 'id'
              ? sql`gen_random_uuid()`
              : column === 'chain_position'
                ? sql`t.chain_position + (select max(chain_position) from audit_log)`
                : sql`t.${sql.id(column)}`;
        await sql`insert into ${sql.table(table)} (${sql.join(columns.map((column) => sql.id(column)))})
        select ${sql.join(columns.map(value))} from ${sql.table(table)} t join floor_ids m on m.old_id = t.${sql.id(key)} ${where}`.execute(
          trx,
        );
      };
      await copy('incidents', 'id');
      for (const table of ['victims', 'perpetrator_claims', 'sources']) await copy(table, 'incident_id');
      await copy('audit_log', 'entity_id', sql`where t.entity_type = 'incident'`);
      await sql`select refresh_derived_tables(array(select new_id from floor_ids))`.execute(trx);
      throw new RolledBack();
    })
    .catch((error) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  return (performance.now() - started) / 1000;
}

class RolledBack extends Error {}

/** Scenario i. */
export async function benchImports(serverUrl: string, rows = IMPORT_ROWS, chunkSize?: number) {
  const bytes = generateNativeFile(rows);
  log(
    `\nImport of ${rows.toLocaleString('en')} generated native rows (${(bytes.length / 1e6).toFixed(0)} MB) into a fresh database ${IMPORT_DATABASE}, through runImport; load average ${loadAverage()} before:`,
  );
  log('| step | rows | seconds | rows/s | notes |');
  log('| --- | ---: | ---: | ---: | --- |');
  const parseStarted = performance.now();
  const plan = planImport(decodeUtf8(bytes), { format: 'native', fileName: 'bench.csv' });
  const parseSeconds = (performance.now() - parseStarted) / 1000;
  if (plan.rejected.length) throw new Error(`generated rows were rejected: ${JSON.stringify(plan.rejected.slice(0, 3))}`);
  log(
    `| i1. parse + validate (planImport) | ${plan.valid.length} | ${parseSeconds.toFixed(1)} | ${Math.round(plan.valid.length / parseSeconds)} | no database |`,
  );
  const plain = await importOnce(serverUrl, bytes, false, chunkSize);
  log(
    `| i2. whole import, without duplicate detection | ${plain.created} | ${plain.seconds.toFixed(1)} | ${Math.round(plain.created / plain.seconds)} | ${cpuText(plain.cpu)}; load ${os.loadavg()[0]!.toFixed(2)} |`,
  );
  const floor = plain.floor!;
  const cpuRatio =
    plain.cpu.postgres && floor.cpu.postgres ? `, PostgreSQL CPU ${(plain.cpu.postgres / floor.cpu.postgres).toFixed(2)}x` : '';
  log(
    `| i2 floor. the same rows copied by SQL alone (INSERT ... SELECT, derived tables refreshed once) | ${plain.created} | ${floor.seconds.toFixed(1)} | ${Math.round(plain.created / floor.seconds)} | ${cpuText(floor.cpu)}; i2 takes ${(plain.seconds / floor.seconds).toFixed(2)}x the floor${cpuRatio} (target <= 1.2x) |`,
  );
  const detected = await importOnce(serverUrl, bytes, true, chunkSize);
  log(
    `| i3. whole import, with duplicate detection | ${detected.created} | ${detected.seconds.toFixed(1)} | ${Math.round(detected.created / detected.seconds)} | ${detected.flagged} rows flagged; ${cpuText(detected.cpu)}; ${(detected.seconds / plain.seconds).toFixed(2)}x i2 (target <= 1.5x); load ${os.loadavg()[0]!.toFixed(2)} |`,
  );
}

/** Scenario j: `db` holds the benchmark dataset. */
export async function benchDuplicateFlagging(db: DbHandle['db'], samples = 200) {
  const subjects = await sql<{ organisation_id: string; country: string; date_start: string; name: string }>`
    select i.organisation_id, i.country, i.date_start::text as date_start, v.name
    from incidents i tablesample system (0.5) repeatable (2026) join victims v on v.incident_id = i.id and v.position = 0
    where i.deleted_at is null and v.name is not null limit ${samples}`.execute(db);
  const durations: number[] = [];
  let flagged = 0;
  const rollback = new Error('rollback');
  for (const [index, subject] of subjects.rows.entries()) {
    const actor: KeyActor = {
      kind: 'key',
      keyId: '00000000-0000-4000-8000-000000000000',
      organisationId: subject.organisation_id,
      role: 'editor',
    };
    // Half repeat a stored victim's name as it was written, half spell it differently.
    const name = index % 2 ? subject.name : subject.name.replace(/a/, 'aa').replace(/^(\S+)\s+(\S+)/, '$2 $1');
    const input = createIncidentSchema.parse({
      title: 'Benchmark probe',
      date: { precision: 'day', value: subject.date_start },
      location: { country: subject.country.trim() },
      attackTypes: ['killing'],
      victims: [{ name, role: 'journalist' }],
    });
    await db
      .transaction()
      .execute(async (trx) => {
        const id = await insertIncident(trx, actor.organisationId, input);
        await replaceVictims(trx, id, input.victims);
        const started = performance.now();
        const found = await flagDuplicates(trx, actor, id);
        durations.push(performance.now() - started);
        if (found.length) flagged++;
        throw rollback;
      })
      .catch((error) => {
        if (error !== rollback) throw error;
      });
  }
  log(
    `\nDuplicate flagging of one create on the dataset (transaction rolled back), ${durations.length} creates, ${flagged} flagged; load average ${loadAverage()}:`,
  );
  log('| scenario | samples | p50 ms | p99 ms |');
  log('| --- | ---: | ---: | ---: |');
  log(`| j. flagDuplicates on create | ${durations.length} | ${ms(percentile(durations, 50))} | ${ms(percentile(durations, 99))} |`);
}
