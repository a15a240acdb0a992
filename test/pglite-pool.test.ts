import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/audit/actor.ts';
import { appendAudit } from '../src/audit/audit.queries.ts';
import { createDb, type Db, type DbHandle } from '../src/db/create-db.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createTestDatabase } from './support/test-database.ts';

/**
 * The embedded pool hands PGlite's one connection to one caller at a time. These tests always
 * build their own in-memory PGlite (even when the run uses PostgreSQL), because that is what
 * they are about; the type-parsing checks at the end run on whichever mode the run uses.
 */
const unique = (label: string) => `${label} ${randomUUID().slice(0, 8)}`;

class Rollback extends Error {}

describe('embedded pool (PGlite, one connection)', () => {
  let db: Db;
  let destroyed = false;
  beforeAll(async () => {
    const handle = await createDb({});
    expect(handle.mode).toBe('embedded');
    db = handle.db;
    await migrateToLatest(db);
  });
  afterAll(async () => {
    if (!destroyed) await db?.destroy();
  });

  const countNamed = async (name: string) =>
    (
      await db
        .selectFrom('organisations')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('name', '=', name)
        .executeTakeFirstOrThrow()
    ).n;

  it('never shows another caller an uncommitted row, and keeps its statements out of the open transaction', async () => {
    const rolledBack = unique('rolled back');
    const committed = unique('committed alongside');
    const events: string[] = [];
    let inserted!: () => void;
    const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));

    const writer = db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('organisations').values({ name: rolledBack }).execute();
        events.push('writer inserted');
        inserted();
        await sleep(150); // hold the transaction open while the others queue up
        const seenInside = await trx.selectFrom('organisations').select('name').where('name', 'in', [rolledBack, committed]).execute();
        events.push(
          `writer sees ${seenInside
            .map((row) => row.name)
            .sort()
            .join(',')}`,
        );
        throw new Rollback('roll back on purpose');
      })
      .catch((error: unknown) => {
        events.push('writer rolled back');
        if (!(error instanceof Rollback)) throw error;
      });

    await insertedSignal;
    // A plain read, a read inside its own transaction, and an autocommit write, all while the
    // writer's transaction is open. Sharing the connection would put them inside it.
    const reader = countNamed(rolledBack).then((n) => {
      events.push('reader read');
      return n;
    });
    const transactionalReader = db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('organisations').select('id').where('name', '=', rolledBack).execute();
      events.push('transactional reader read');
      return rows.length;
    });
    const otherWriter = db
      .insertInto('organisations')
      .values({ name: committed })
      .execute()
      .then(() => events.push('other writer committed'));

    const [, seenByReader, seenByTransactionalReader] = await Promise.all([writer, reader, transactionalReader, otherWriter]);

    expect(seenByReader).toBe(0);
    expect(seenByTransactionalReader).toBe(0);
    // The writer saw only its own row: the other writer's insert did not run inside its transaction...
    expect(events.slice(0, 3)).toEqual(['writer inserted', `writer sees ${rolledBack}`, 'writer rolled back']);
    // ...and nobody else ran until the writer had finished.
    expect(events.slice(3).sort()).toEqual(['other writer committed', 'reader read', 'transactional reader read']);
    // The rollback undid the writer's row only; the other caller's autocommit insert survived it.
    expect(await countNamed(rolledBack)).toBe(0);
    expect(await countNamed(committed)).toBe(1);
  });

  it('serialises read-modify-write transactions, so none of them loses an update', async () => {
    const key = unique('counter');
    await db
      .insertInto('app_meta')
      .values({ key, value: JSON.stringify(0) })
      .execute();
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.transaction().execute(async (trx) => {
          const { value } = await trx.selectFrom('app_meta').select('value').where('key', '=', key).executeTakeFirstOrThrow();
          await sleep(1);
          await trx
            .updateTable('app_meta')
            .set({ value: JSON.stringify((value as number) + 1) })
            .where('key', '=', key)
            .execute();
        }),
      ),
    );
    const { value } = await db.selectFrom('app_meta').select('value').where('key', '=', key).executeTakeFirstOrThrow();
    expect(value).toBe(20);
  });

  it('completes many concurrent queries and transactions', async () => {
    const prefix = unique('burst');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 4 === 0
          ? db.transaction().execute(async (trx) => {
              await trx
                .insertInto('organisations')
                .values({ name: `${prefix} ${i}` })
                .execute();
              return 'tx';
            })
          : i % 2 === 0
            ? db
                .insertInto('organisations')
                .values({ name: `${prefix} ${i}` })
                .execute()
                .then(() => 'insert')
            : sql<{ one: number }>`select 1 as one`.execute(db).then(({ rows }) => (rows[0]?.one === 1 ? 'select' : 'bad')),
      ),
    );
    expect(results.filter((result) => result === 'bad')).toEqual([]);
    const { n } = await db
      .selectFrom('organisations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('name', 'like', `${prefix} %`)
      .executeTakeFirstOrThrow();
    expect(n).toBe(100);
  });

  it('does not let a failed statement poison the next caller', async () => {
    const taken = unique('taken');
    await db.insertInto('organisations').values({ name: taken }).execute();

    // 1. The error propagates: Kysely rolls back, the next caller queued behind it is fine.
    const failing = db.transaction().execute(async (trx) => {
      await trx
        .insertInto('organisations')
        .values({ name: unique('lost with the rollback') })
        .execute();
      await trx.insertInto('organisations').values({ name: taken }).execute(); // unique violation
    });
    const next = db
      .insertInto('organisations')
      .values({ name: unique('next caller') })
      .returning('id')
      .executeTakeFirst();
    await expect(failing).rejects.toMatchObject({ code: '23505' });
    expect(await next).toHaveProperty('id');

    // 2. The error is swallowed inside the transaction: COMMIT turns into ROLLBACK, and the
    //    connection leaves the aborted transaction behind.
    const swallowed = unique('swallowed');
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('organisations').values({ name: swallowed }).execute();
      await sql`select * from no_such_table`.execute(trx).catch(() => undefined);
    });
    expect(await countNamed(swallowed)).toBe(0);

    // 3. A failing statement outside any transaction.
    await expect(sql`select 1/0`.execute(db)).rejects.toThrow(/division by zero/);

    // SAVEPOINT succeeds inside an open transaction and fails differently in an aborted one:
    // this error means the connection is back outside any transaction.
    await expect(sql`savepoint probe`.execute(db)).rejects.toThrow(/can only be used in transaction blocks/);
    const after = unique('after failures');
    await db.insertInto('organisations').values({ name: after }).execute();
    expect(await countNamed(after)).toBe(1);
    expect(await countNamed(taken)).toBe(1);
  });

  it('refuses new work once destroyed (runs last)', async () => {
    destroyed = true;
    await db.destroy();
    await expect(sql`select 1`.execute(db)).rejects.toThrow();
  });
});

describe("row shapes in this run's mode", () => {
  let database: DbHandle & { drop: () => Promise<void> };
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it('returns counts as numbers, dates as strings, timestamps as Dates, jsonb parsed and text[] as arrays', async () => {
    const { db } = database;
    const organisation = await db
      .insertInto('organisations')
      .values({ name: unique('shapes') })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(organisation.created_at).toBeInstanceOf(Date);

    const incident = await db
      .insertInto('incidents')
      .values({
        organisation_id: organisation.id,
        title: 'Shapes',
        date_start: '2024-01-01',
        date_end: '2024-12-31',
        date_precision: 'year',
        country: 'TR',
        attack_types: ['killing', 'threat_harassment'],
        published_at: new Date('2024-06-01T12:34:56.789Z'),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(incident.date_start).toBe('2024-01-01'); // no time zone shift, whatever TZ the process has
    expect(incident.date_end).toBe('2024-12-31');
    expect(incident.attack_types).toEqual(['killing', 'threat_harassment']);
    expect(incident.published_at).toEqual(new Date('2024-06-01T12:34:56.789Z'));
    expect(incident.updated_at).toBeInstanceOf(Date);
    expect(incident.version).toBe(1);

    const { n } = await db
      .selectFrom('incidents')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('organisation_id', '=', organisation.id)
      .executeTakeFirstOrThrow();
    expect(n).toBe(1);

    const { rows } = await sql<{ big: unknown; day: unknown; at: unknown; doc: unknown; list: unknown }>`
      select 9007199254740991::bigint as big, '1999-12-31'::date as day, '2000-01-01T00:00:00Z'::timestamptz as at,
             '{"a": [1, "two", null], "b": {"c": true}}'::jsonb as doc, array['x', 'y, z']::text[] as list`.execute(db);
    expect(rows[0]).toEqual({
      big: 9007199254740991,
      day: '1999-12-31',
      at: new Date('2000-01-01T00:00:00Z'),
      doc: { a: [1, 'two', null], b: { c: true } },
      list: ['x', 'y, z'],
    });

    const key = unique('meta');
    await db
      .insertInto('app_meta')
      .values({ key, value: JSON.stringify({ nested: ['ok', 1] }) })
      .execute();
    const meta = await db.selectFrom('app_meta').select('value').where('key', '=', key).executeTakeFirstOrThrow();
    expect(meta.value).toEqual({ nested: ['ok', 1] });

    // Audit records are written through the hash chain (src/audit/audit-chain.ts), never by a bare insert.
    const entry = {
      action: 'shape.check',
      entityType: 'incident',
      entityId: incident.id,
      organisationId: null,
      before: null,
      after: { n: 1 },
    } as const;
    await db.transaction().execute((trx) => appendAudit(trx, { actor: systemActor('seed'), requestId: null }, entry));
    const audit = await db
      .selectFrom('audit_log')
      .select(['id', 'before', 'after', 'occurred_at'])
      .where('action', '=', 'shape.check')
      .executeTakeFirstOrThrow();
    expect(typeof audit.id).toBe('number'); // bigint identity
    expect(audit.before).toBeNull();
    expect(audit.after).toEqual({ n: 1 });
    expect(audit.occurred_at).toBeInstanceOf(Date);
  });
});
