import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createDb, type Db } from '../src/db/create-db.ts';
import { createLogger } from '../src/logger.ts';
import { request, type TestApp } from './support/test-app.ts';
import { createTestDatabase } from './support/test-database.ts';

/** An API whose PostgreSQL is down (nothing listens on port 1): requests fail fast with 503. */
let app: TestApp;
let db: Db;
beforeAll(async () => {
  ({ db } = await createDb({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nothing', onPoolError: () => {} }));
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const server = createApp({ db, config, logger: createLogger('silent') }).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  app = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    db,
    mode: 'postgres',
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy();
    },
  };
});
afterAll(() => app.close());

describe('when the database is unreachable', () => {
  it('stays alive but not ready', async () => {
    expect((await request(app, 'GET', '/healthz')).status).toBe(200);
    const ready = await request(app, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ type: '/problems/not-ready' });
  });

  it('answers data requests with 503 problem+json and Retry-After, not 500', async () => {
    const started = Date.now();
    const response = await request(app, 'GET', '/v1/incidents');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ type: '/problems/database-unavailable', status: 503 });
    expect(response.headers.get('retry-after')).toBe('5');
    expect(Date.now() - started).toBeLessThan(6_000);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('when PostgreSQL ends a connection that is in use (restart, failover)', () => {
  it('fails that transaction, keeps the process alive and serves the next query on a new connection', async () => {
    const database = await createTestDatabase();
    try {
      const transaction = database.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(database.db);
        // The connection is gone; the client learns it from this query or from the socket's end.
        // Either way the error must not escape as an unhandled 'error' event and end the process.
        for (;;) await sql`select 1`.execute(trx);
      });
      await expect(transaction).rejects.toThrow();
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await database.drop();
    }
  });
});
