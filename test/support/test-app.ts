import type { AddressInfo } from 'node:net';
import type { Store } from 'express-rate-limit';
import { afterAll, beforeAll } from 'vitest';
import { createApp } from '../../src/app.ts';
import { createHttpServer } from '../../src/http/http-server.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Db } from '../../src/db/create-db.ts';
import { createLogger } from '../../src/logger.ts';
import { createActors, type Actors } from './factories.ts';
import { createTestDatabase } from './test-database.ts';

export interface TestApp {
  url: string;
  db: Db;
  mode: 'postgres' | 'embedded';
  close: () => Promise<void>;
}

/** The real app on a real port over the file's own database. */
export async function startTestApp(env: Record<string, string> = {}, options: { rateLimitStore?: Store } = {}): Promise<TestApp> {
  const config: Config = loadConfig({
    LOG_LEVEL: 'silent',
    // Off unless a test asks (test/published-facts.test.ts): its background loads would race the tests' own writes.
    STATISTICS_IN_MEMORY: 'false',
    RATE_LIMIT_ANONYMOUS: '100000',
    RATE_LIMIT_AUTHENTICATED: '100000',
    RATE_LIMIT_FAILED_AUTH: '100000',
    ...env,
  });
  const database = await createTestDatabase({ statementTimeoutMs: config.STATEMENT_TIMEOUT_MS });
  const served = await serveApp(database.db, config, options);
  return {
    ...served,
    mode: database.mode,
    close: async () => {
      await served.close();
      await database.drop();
    },
  };
}

/** The real app over a given database, on a free port; `close` stops the server, not the database. */
export async function serveApp(db: Db, config: Config, options: { rateLimitStore?: Store } = {}) {
  const app = createApp({ db, config, logger: createLogger(config.LOG_LEVEL), rateLimitStore: options.rateLimitStore });
  const server = createHttpServer(app, config).listen(0, '127.0.0.1');
  // Longer than any pause in a test: fetch reuses connections, and one the server closed as
  // idle just as the client reused it would fail with ECONNRESET.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface UseTestAppOptions {
  rateLimitStore?: Store;
  /** Create the keys of every role (createActors) once the app is up; default true. */
  actors?: boolean;
}

/** What useTestApp hands back: read its fields inside hooks and tests, not while the file loads. */
export interface TestAppFixture {
  readonly app: TestApp;
  readonly actors: Actors;
}

/**
 * The usual preamble of a test file, or of a describe block: registers a beforeAll that starts
 * the app over the file's own database (and creates the actors), and an afterAll that closes it.
 * Call it where the hooks belong (top level, or inside describe); hooks registered after it run
 * after it, so a file's own beforeAll can seed data through `t.app` and `t.actors`.
 *
 *   const t = useTestApp();
 *   it('...', async () => { await request(t.app, 'GET', '/v1/incidents', { key: t.actors.editor }); });
 */
export function useTestApp(env: Record<string, string> = {}, options: UseTestAppOptions = {}): TestAppFixture {
  const { actors: withActors = true, ...startOptions } = options;
  let app: TestApp | undefined;
  let actors: Actors | undefined;
  beforeAll(async () => {
    app = await startTestApp(env, startOptions);
    if (withActors) actors = await createActors(app.db);
  });
  afterAll(async () => {
    await app?.close();
    app = undefined;
    actors = undefined;
  });
  return {
    get app() {
      if (!app)
        throw new Error(
          'useTestApp: the app is not running: read `.app` inside a hook or a test, after the beforeAll that useTestApp registered (did it fail?)',
        );
      return app;
    },
    get actors() {
      if (!withActors) throw new Error('useTestApp: no actors, this fixture was made with { actors: false }');
      if (!actors)
        throw new Error(
          'useTestApp: the actors do not exist yet: read `.actors` inside a hook or a test, after the beforeAll that useTestApp registered (did it fail?)',
        );
      return actors;
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  key?: string | undefined;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** fetch with JSON in and out; `key` becomes the bearer token. */
export async function request(app: TestApp, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  } else if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${app.url}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text && /json/.test(response.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed, text };
}
