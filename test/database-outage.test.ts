import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createDb, type Db } from '../src/db/create-db.ts';
import { createLogger } from '../src/logger.ts';
import { request, type TestApp } from './support/test-app.ts';

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
