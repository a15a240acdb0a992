import type { AddressInfo } from 'node:net';
import type { Store } from 'express-rate-limit';
import { createApp } from '../../src/app.ts';
import { createHttpServer } from '../../src/http/http-server.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Db } from '../../src/db/create-db.ts';
import { createLogger } from '../../src/logger.ts';
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
    RATE_LIMIT_ANONYMOUS: '100000',
    RATE_LIMIT_AUTHENTICATED: '100000',
    ...env,
  });
  const database = await createTestDatabase({ statementTimeoutMs: config.STATEMENT_TIMEOUT_MS });
  const app = createApp({ db: database.db, config, logger: createLogger(config.LOG_LEVEL), rateLimitStore: options.rateLimitStore });
  const server = createHttpServer(app, config).listen(0, '127.0.0.1');
  // Longer than any pause in a test: fetch reuses connections, and one the server closed as
  // idle just as the client reused it would fail with ECONNRESET.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    db: database.db,
    mode: database.mode,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.drop();
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
