import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator } from 'kysely/migration';
import { promises as fs } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { readableAuditDocument } from '../src/audit/audit-documents.ts';
import { auditRecordHash } from '../src/audit/audit-hash.ts';
import { verifyAuditChain, type VerifyResult } from '../src/audit/audit-verify.ts';
import { createDb, type Db, type DbHandle } from '../src/db/create-db.ts';
import { migrateToLatest, migrationFolder } from '../src/db/migrate.ts';
import { createOrganisation, incidentBody, serviceWriter } from './support/factories.ts';
import { withDatabase } from './support/global-setup.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * The audit log's hash chain (issue 17): an attacker with the database (a superuser who switches
 * the append-only trigger off) edits, deletes, reorders or cuts records directly in SQL, and
 * `npm run audit -- verify` (the real process, and the function behind it) names the first
 * record that no longer fits. Concurrent writers and imports still make one valid chain.
 */
const t = useTestApp();
const root = fileURLToPath(new URL('..', import.meta.url));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A database the CLI can open as an operator would: in PostgreSQL mode the app's own (by URL);
 * embedded, a data folder made from the migrated template. Only one process may open a data
 * folder, so the embedded store closes its handle around each run of the CLI.
 */
interface ChainStore {
  db: () => Db;
  runCli: (args: string[]) => Promise<CliRun>;
  close: () => Promise<void>;
}

function runCliWith(env: Record<string, string>, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/audit/audit-cli.ts', 'verify', ...args],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function openChainStore(): Promise<ChainStore> {
  if (t.app.mode === 'postgres') {
    const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(t.app.db);
    const url = withDatabase(process.env.DATABASE_URL!, rows[0]!.name);
    return { db: () => t.app.db, runCli: (args) => runCliWith({ DATABASE_URL: url }, args), close: async () => {} };
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'dateline-audit-chain-'));
  let handle: DbHandle = await createDb({ dataDir, loadDataDir: new Blob([await readFile(inject('pgliteTemplatePath')!)]) });
  return {
    db: () => handle.db,
    runCli: async (args) => {
      // Kysely opens the pool on the first query: a handle never queried would not close PGlite (and free its folder) on destroy.
      await sql`select 1`.execute(handle.db);
      await handle.db.destroy();
      try {
        return await runCliWith({ DATABASE_URL: '', DATA_DIR: dataDir }, args);
      } finally {
        handle = await createDb({ dataDir });
      }
    },
    close: async () => {
      await handle.db.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What an attacker with superuser rights does: switch the append-only triggers off, change history, switch them on. */
async function tamper(db: Db, statements: ReturnType<typeof sql>[]) {
  await db.transaction().execute(async (trx) => {
    await sql`alter table audit_log disable trigger user`.execute(trx);
    for (const statement of statements) await statement.execute(trx);
    await sql`alter table audit_log enable trigger user`.execute(trx);
  });
}

const auditIds = async (db: Db) => (await db.selectFrom('audit_log').select('id').orderBy('id').execute()).map((row) => row.id);

/** Every column but the id, for moving whole records between rows. */
const RECORD_COLUMNS = [
  'occurred_at',
  'action',
  'entity_type',
  'entity_id',
  'organisation_id',
  'actor_key_id',
  'actor_role',
  'request_id',
  'before',
  'after',
  'chain_position',
  'prev_hash',
  'hash',
];

function expectBroken(result: VerifyResult, id: number, kind: string) {
  expect(result.intact).toBe(false);
  if (result.intact) return;
  expect(result.problem).toMatchObject({ id, kind });
}

describe('verify against records changed in SQL', () => {
  let store: ChainStore;
  let saved: unknown[] = [];

  beforeAll(async () => {
    store = await openChainStore();
    const organisation = await createOrganisation(store.db());
    const writer = await serviceWriter(store.db(), organisation.id);
    for (let n = 0; n < 4; n++) {
      const incident = await writer.create(incidentBody({ title: `Chained incident ${n}` }), { publish: n % 2 === 0 });
      if (n === 3) await writer.remove(incident);
    }
  }, 60_000);
  afterAll(() => store?.close());

  // Each test tampers with the chain; the whole log is put back as it was afterwards.
  beforeEach(async () => {
    saved = await store.db().selectFrom('audit_log').selectAll().orderBy('id').execute();
  });
  afterEach(async () => {
    await tamper(store.db(), [
      sql`delete from audit_log`,
      sql`insert into audit_log overriding system value
        select * from jsonb_populate_recordset(null::audit_log, ${JSON.stringify(saved)}::jsonb)`,
    ]);
    expect((await verifyAuditChain(store.db())).intact).toBe(true);
  }, 30_000);

  it('passes an intact chain, with its count and head, and a head stored earlier', { timeout: 120_000 }, async () => {
    const ids = await auditIds(store.db());
    expect(ids.length).toBe(7); // 4 creates, 2 publications, 1 deletion
    const result = await verifyAuditChain(store.db(), { batchSize: 3 }); // several batches
    expect(result).toMatchObject({ intact: true, count: ids.length, head: { id: ids.at(-1), position: ids.length } });
    if (!result.intact || !result.head) throw new Error('intact chain expected');
    const { head } = result;

    const cli = await store.runCli([]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`The audit chain is intact: ${ids.length} record(s) checked; head: record ${head.id}, hash ${head.hash}`);
    const withHead = await store.runCli(['--head', `${head.id}:${head.hash}`]);
    expect(withHead.code, withHead.stderr).toBe(0);

    const badHead = await runCliWith({}, ['--head', 'latest']); // refused before the database is opened
    expect(badHead.code).toBe(1);
    expect(badHead.stderr).toContain('--head takes the id and hash of a head as <id>:<hash>');
  });

  it('names a record whose content was edited', { timeout: 90_000 }, async () => {
    const { id } = await store
      .db()
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'incident.create')
      .orderBy('id')
      .offset(1)
      .limit(1)
      .executeTakeFirstOrThrow();
    await tamper(store.db(), [sql`update audit_log set after = jsonb_set(after, '{title}', '"A forged title"') where id = ${id}`]);

    expectBroken(await verifyAuditChain(store.db()), id, 'changed');
    const cli = await store.runCli([]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`The audit chain is broken at record ${id} (changed)`);
    expect(cli.stderr).toContain(`Record ${id} was changed: its content no longer matches the hash it was written with.`);
    expect(cli.stderr).toMatch(/found: {4}content hashing to [0-9a-f]{64}\n {2}expected: content hashing to [0-9a-f]{64}/);
  });

  it('names the place of a deleted record', { timeout: 90_000 }, async () => {
    const ids = await auditIds(store.db());
    const [before, removed, after] = ids.slice(3, 6);
    await tamper(store.db(), [sql`delete from audit_log where id = ${removed}`]);

    const result = await verifyAuditChain(store.db());
    expectBroken(result, after!, 'removed');
    expect(result.intact || result.problem.message).toBe(
      `1 record(s) were removed after record ${before}, before record ${after} (position 5).`,
    );
    const cli = await store.runCli([]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`broken at record ${after} (removed), after 4 intact record(s)`);
    expect(cli.stderr).toContain('found:    position 6\n  expected: position 5');
  });

  it('names the first of two records swapped in order', { timeout: 90_000 }, async () => {
    const ids = await auditIds(store.db());
    const [first, second] = ids.slice(2, 4) as [number, number];
    const assignments = sql.join(
      RECORD_COLUMNS.map((column) =>
        column === 'chain_position' ? sql`chain_position = -b.chain_position` : sql`${sql.id(column)} = b.${sql.id(column)}`,
      ),
    );
    // Through negative positions, since the position is unique at every row.
    await tamper(store.db(), [
      sql`update audit_log set chain_position = -chain_position where id in (${first}, ${second})`,
      sql`update audit_log a set ${assignments} from audit_log b
        where (a.id = ${first} and b.id = ${second}) or (a.id = ${second} and b.id = ${first})`,
    ]);

    const result = await verifyAuditChain(store.db());
    expectBroken(result, first, 'reordered');
    expect(result.intact || result.problem.message).toContain(`the record of position 3 is record ${second}: records were reordered`);
    const cli = await store.runCli([]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`broken at record ${first} (reordered)`);
  });

  it('names the record after one rewritten with a fresh hash', { timeout: 90_000 }, async () => {
    const ids = await auditIds(store.db());
    const [rewritten, next] = ids.slice(4, 6) as [number, number];
    const row = await store.db().selectFrom('audit_log').selectAll().where('id', '=', rewritten).executeTakeFirstOrThrow();
    // The attacker knows the hash function, and the key that opens sealed parts of the documents.
    const forged = {
      ...row,
      occurred_at: row.occurred_at.toISOString(),
      action: 'incident.forged',
      before: readableAuditDocument(row.before),
      after: readableAuditDocument(row.after),
    };
    const hash = auditRecordHash(row.prev_hash, forged);
    await tamper(store.db(), [sql`update audit_log set action = 'incident.forged', hash = ${hash} where id = ${rewritten}`]);

    const result = await verifyAuditChain(store.db());
    expectBroken(result, next, 'relinked');
    expect(result.intact || result.problem).toMatchObject({ found: `previous hash ${row.hash}`, expected: `previous hash ${hash}` });
    const cli = await store.runCli([]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`Record ${next} does not follow record ${rewritten}`);
  });

  it('with a head stored earlier, notices records cut from the end', { timeout: 90_000 }, async () => {
    const before = await verifyAuditChain(store.db());
    if (!before.intact || !before.head) throw new Error('intact chain expected');
    const { head } = before;
    await tamper(store.db(), [sql`delete from audit_log where id = ${head.id}`]);

    // Without the stored head the shorter chain is intact: only a copy kept elsewhere shows the cut.
    expect(await verifyAuditChain(store.db())).toMatchObject({ intact: true, count: before.count - 1 });
    expectBroken(await verifyAuditChain(store.db(), { expectHead: head }), head.id, 'head-missing');
    const cli = await store.runCli(['--head', `${head.id}:${head.hash}`]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`Record ${head.id}, the head you stored, is no longer in the chain: records were removed from its end.`);
  });
});

describe('writers make one chain', () => {
  it('20 concurrent PATCHes over HTTP: every record in the chain, in order', { timeout: 90_000 }, async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, async (_, n) => {
        const response = await request(t.app, 'POST', '/v1/incidents', {
          key: t.actors.editor,
          body: incidentBody({ title: `Parallel ${n}` }),
        });
        expect(response.status).toBe(201);
        return response.body as { id: string; version: number };
      }),
    );
    const patched = await Promise.all(
      created.map(({ id, version }, n) =>
        request(t.app, 'PATCH', `/v1/incidents/${id}`, { key: t.actors.editor, body: { title: `Parallel ${n}, retitled`, version } }),
      ),
    );
    expect(patched.map((response) => response.status)).toEqual(Array(20).fill(200));

    const result = await verifyAuditChain(t.app.db);
    expect(result.intact).toBe(true);
    const updates = await t.app.db.selectFrom('audit_log').select('chain_position').where('action', '=', 'incident.update').execute();
    expect(updates.length).toBeGreaterThanOrEqual(20);
  });

  it('an import and its publication write their records into the chain', { timeout: 90_000 }, async () => {
    const csv = await readFile(fileURLToPath(new URL('./fixtures/imports/cpj-killed.csv', import.meta.url)), 'utf8');
    const imported = await request(t.app, 'POST', '/v1/imports?format=cpj&onError=skip', {
      key: t.actors.editor,
      rawBody: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const published = await request(t.app, 'POST', `/v1/imports/${imported.body.id}/publish`, { key: t.actors.reviewer, body: {} });
    expect(published.status, JSON.stringify(published.body)).toBe(200);

    for (const [response, action, count] of [
      [imported, 'incident.create', 6],
      [published, 'incident.publish', 6],
    ] as const) {
      const rows = await t.app.db
        .selectFrom('audit_log')
        .select(['action', 'chain_position', 'prev_hash', 'hash'])
        .where('request_id', '=', response.headers.get('x-request-id')!)
        .orderBy('id')
        .execute();
      expect(rows.map((row) => row.action)).toEqual(Array(count).fill(action));
      // One batch, one run of the chain: each record follows the one before it.
      rows.slice(1).forEach((row, n) => {
        expect(row.chain_position).toBe(rows[n]!.chain_position + 1);
        expect(row.prev_hash).toBe(rows[n]!.hash);
      });
    }
    expect(await verifyAuditChain(t.app.db)).toMatchObject({ intact: true });
  });
});

describe('GET /v1/audit and /v1/audit/head', () => {
  it("gives an organisation's admin its own records, newest first, each with its hash", async () => {
    const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody({ title: 'For the feed' }) });
    const other = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.otherEditor, body: incidentBody() });
    const feed = await request(t.app, 'GET', `/v1/audit?entityId=${created.body.id}`, { key: t.actors.admin });
    expect(feed.status).toBe(200);
    expect(feed.body.data).toHaveLength(1);
    expect(feed.body.data[0]).toMatchObject({
      action: 'incident.create',
      entityType: 'incident',
      entityId: created.body.id,
      organisationId: t.actors.ownOrganisation.id,
      actor: { role: 'editor' },
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      prevHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // The admin role reads no drafts or protected victims: an incident's documents are not in its feed.
    expect(feed.body.data[0]).not.toHaveProperty('after');
    expect(feed.text).not.toContain('For the feed');

    // A key's documents are: keys are what an admin manages.
    const key = await request(t.app, 'POST', '/v1/keys', {
      key: t.actors.admin,
      body: { organisationId: t.actors.ownOrganisation.id, name: 'Feed test key', role: 'researcher' },
    });
    expect(key.status).toBe(201);
    const keyFeed = await request(t.app, 'GET', `/v1/audit?entityType=api_key&entityId=${key.body.id}`, { key: t.actors.admin });
    expect(keyFeed.body.data).toEqual([
      expect.objectContaining({ action: 'api_key.create', before: null, after: expect.objectContaining({ name: 'Feed test key' }) }),
    ]);
    const theirs = await request(t.app, 'GET', `/v1/audit?entityId=${other.body.id}`, { key: t.actors.admin });
    expect(theirs.body.data).toEqual([]); // another organisation's records are not in this feed
  });

  it('filters by action, entity type, key and time, and pages with a cursor', async () => {
    const admin = t.actors.admin;
    for (let n = 0; n < 3; n++) await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody() });
    const first = await request(t.app, 'GET', '/v1/audit?entityType=incident&action=incident.create&limit=2', { key: admin });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.data.every((record: { action: string }) => record.action === 'incident.create')).toBe(true);
    const second = await request(
      t.app,
      'GET',
      `/v1/audit?entityType=incident&action=incident.create&limit=2&cursor=${first.body.nextCursor}`,
      {
        key: admin,
      },
    );
    expect(second.body.data[0].id).toBeLessThan(first.body.data[1].id);

    const keyId = first.body.data[0].actor.keyId as string;
    const byKey = await request(t.app, 'GET', `/v1/audit?actorKeyId=${keyId}&limit=200`, { key: admin });
    expect(byKey.body.data.length).toBeGreaterThan(0);
    expect(byKey.body.data.every((record: { actor: { keyId: string } }) => record.actor.keyId === keyId)).toBe(true);
    const future = await request(t.app, 'GET', '/v1/audit?from=2999-01-01T00:00:00Z', { key: admin });
    expect(future.body).toEqual({ data: [], nextCursor: null });
    const past = await request(t.app, 'GET', '/v1/audit?to=2000-01-01T00:00:00Z', { key: admin });
    expect(past.body.data).toEqual([]);
  });

  it('refuses bad parameters by name, and every role but admin', async () => {
    const bad = await request(t.app, 'GET', '/v1/audit?entityType=victim&from=yesterday&cursor=nonsense', { key: t.actors.admin });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((error: { parameter: string }) => error.parameter).sort()).toEqual(['entityType', 'from']);
    const badCursor = await request(t.app, 'GET', '/v1/audit?cursor=nonsense', { key: t.actors.admin });
    expect(badCursor.body.errors).toEqual([{ parameter: 'cursor', detail: 'use the nextCursor value from the previous page' }]);
    for (const path of ['/v1/audit', '/v1/audit/head']) {
      expect((await request(t.app, 'GET', path)).status).toBe(401);
      for (const key of [t.actors.editor, t.actors.reviewer, t.actors.researcher])
        expect((await request(t.app, 'GET', path, { key })).status).toBe(403);
    }
  });

  it('gives the head that verify ends at', async () => {
    const head = await request(t.app, 'GET', '/v1/audit/head', { key: t.actors.admin });
    expect(head.status).toBe(200);
    const result = await verifyAuditChain(t.app.db);
    if (!result.intact || !result.head) throw new Error('intact chain expected');
    expect(head.body).toEqual({ id: result.head.id, hash: result.head.hash, occurredAt: result.head.occurredAt, count: result.count });
  });
});

describe('migration 0015', () => {
  it('chains the records stored before it, in id order', { timeout: 120_000 }, async () => {
    const { db, drop } = await freshDatabase();
    try {
      const migrator = new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder }) });
      const { error } = await migrator.migrateTo('2026-12-03-0014-claim-facts');
      if (error) throw error;
      for (let n = 0; n < 5; n++) {
        await sql`insert into audit_log (occurred_at, action, entity_type, entity_id, before, after)
          values (${`2026-11-0${n + 1} 10:00:00.123456+00`}, 'incident.update', 'incident', gen_random_uuid(), '{"v": 1}', ${JSON.stringify({ v: n, n: [1.5, 'x'] })})`.execute(
          db,
        );
      }
      await migrateToLatest(db);
      const result = await verifyAuditChain(db as Db);
      expect(result).toMatchObject({ intact: true, count: 5, head: { position: 5, occurredAt: '2026-11-05T10:00:00.123Z' } });
    } finally {
      await drop();
    }
  });
});

/** An empty, unmigrated database of the run's mode. */
async function freshDatabase(): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (t.app.mode === 'embedded') {
    const { db } = await createDb({});
    return { db, drop: () => db.destroy() };
  }
  const name = `dateline_test_audit_${Math.random().toString(16).slice(2, 10)}`;
  await sql`create database ${sql.id(name)}`.execute(t.app.db);
  const { db } = await createDb({ databaseUrl: withDatabase(process.env.DATABASE_URL!, name) });
  return {
    db,
    drop: async () => {
      await db.destroy();
      await sql`drop database if exists ${sql.id(name)}`.execute(t.app.db);
    },
  };
}
