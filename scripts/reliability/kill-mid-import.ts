import { sql } from 'kysely';
import type { Db } from '../../src/db/create-db.ts';
import { freePort, startApi } from './support/api-process.ts';
import { createTenant, openScenarioDatabase, type ScenarioDatabase } from './support/database.ts';
import { call } from './support/http.ts';
import { nativeCsv } from './support/incidents.ts';
import { checkIntegrity } from './support/integrity.ts';
import { sleep } from './support/load.ts';
import type { Report } from './support/report.ts';
import type { Scenario } from './support/scenario.ts';

const ROWS = 5_000;
const TAG = 'kill-mid-import';
/** Embedded: the import holds the only connection, so the kill is timed instead of observed. */
const EMBEDDED_KILL_AFTER_MS = 3_000;

/**
 * A CSV import through the API is SIGKILLed while it writes, the API is started again: none of
 * the file's incidents may exist (one transaction, all or nothing), nothing may be left behind,
 * and the same file then imports completely, once (sending it a third time creates nothing).
 */
export const killMidImport: Scenario = {
  id: 'kill-mid-import',
  summary: `SIGKILL during a ${ROWS}-row CSV import, restart: nothing of it kept, no orphans, the same file then imports once`,
  defaultSeconds: 0,
  quick: false,
  embedded: true,
  run: async ({ embedded, report, log }) => {
    const database = await openScenarioDatabase(TAG, { embedded });
    try {
      const tenant = await database.use((db) => createTenant(db, 'editor', 1));
      const env = { ...database.env, PORT: String(await freePort()) };
      const csv = nativeCsv(ROWS, TAG);
      const upload = (url: string) =>
        call(url, 'POST', '/v1/imports?format=native&fileName=reliability.csv', {
          key: tenant.keys[0],
          rawBody: csv,
          headers: { 'content-type': 'text/csv' },
        });
      report.figure('file', `${ROWS} rows, ${(csv.length / 1024).toFixed(0)} kB, native format`);

      const api = await startApi(env);
      const started = performance.now();
      const interrupted = upload(api.url);
      if (embedded) await sleep(EMBEDDED_KILL_AFTER_MS);
      else await database.use((db) => untilImportWrites(db));
      log(`import writing; SIGKILL after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      api.signal('SIGKILL');
      const killedAfter = (performance.now() - started) / 1000;
      const lost = await interrupted;
      await api.exited;
      report.check('the kill hit the import before it answered', lost.status === 0, lost.status ? `answered ${lost.status}` : '');
      await database.use(async (db) => {
        report.check('no incident of the killed import exists', (await importedIncidents(db)) === 0);
        report.check('the killed import is not recorded', (await countImports(db)) === 0);
        await checkIntegrity(db, report);
      });

      const again = await startApi(env);
      const retryStarted = performance.now();
      const retry = await upload(again.url);
      const importSeconds = (performance.now() - retryStarted) / 1000;
      report.figure('kill after / whole import', `${killedAfter.toFixed(1)} s / ${importSeconds.toFixed(1)} s`);
      report.check(
        'the same file then imports',
        retry.status === 201 && retry.body?.counts?.created === ROWS,
        `${retry.status}, ${retry.body?.counts?.created} created`,
      );
      const repeat = await upload(again.url);
      report.check(
        'sending it once more creates nothing (idempotent replay)',
        repeat.status === 200 && repeat.headers.get('idempotent-replayed') === 'true',
        String(repeat.status),
      );
      await again.stop();
      await checkImported(database, report);
    } finally {
      await database.drop();
    }
  },
};

/** PostgreSQL: wait until a transaction in this database has written (has an xid). */
async function untilImportWrites(db: Db) {
  for (let attempt = 0; attempt < 3_000; attempt++) {
    const writing = await sql<{ n: number }>`select count(*) as n from pg_stat_activity
      where datname = current_database() and backend_xid is not null and pid <> pg_backend_pid()`.execute(db);
    if (Number(writing.rows[0]!.n) > 0) return;
    await sleep(10);
  }
  throw new Error('the import never started writing');
}

async function checkImported(database: ScenarioDatabase, report: Report) {
  await database.use(async (db) => {
    const incidents = await importedIncidents(db);
    const audited = await sql<{ n: number }>`select count(*) as n from audit_log a join incidents i on i.id = a.entity_id
      where a.action = 'incident.create' and i.title like ${`Reliability ${TAG} %`}`.execute(db);
    report.check(
      `${ROWS} incidents, each with its incident.create audit record, one import recorded`,
      incidents === ROWS && Number(audited.rows[0]!.n) === ROWS && (await countImports(db)) === 1,
      `${incidents} incidents, ${audited.rows[0]!.n} audit records`,
    );
    await checkIntegrity(db, report);
  });
}

async function importedIncidents(db: Db) {
  const row = await db
    .selectFrom('incidents')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('title', 'like', `Reliability ${TAG} %`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function countImports(db: Db) {
  return Number((await sql<{ n: number }>`select count(*) as n from imports`.execute(db)).rows[0]!.n);
}
