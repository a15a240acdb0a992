import { sql } from 'kysely';
import pg from 'pg';
import { createDb, type DbHandle } from '../src/db/create-db.ts';

/**
 * The database a benchmark runs on: the app's handle (made by the app's own createDb) plus a
 * raw query function on a separate, plain driver connection for the SQL floor.
 */
export interface BenchDatabase {
  /** For setup (migrations, generation): no statement timeout. */
  handle: DbHandle;
  /** What the app under test uses: made like src/server.ts makes it. */
  appDb: DbHandle['db'];
  description: string;
  /** PostgreSQL only: the connection string of the benchmark database. */
  url?: string;
  /** Runs one statement on the raw driver, without Kysely or the app. */
  raw: RawQuery;
  /** Runs statements on one pinned connection (for a transaction). */
  session: <T>(work: (raw: RawQuery) => Promise<T>) => Promise<T>;
  close: () => Promise<void>;
}

export type RawQuery = (text: string, values: readonly unknown[]) => Promise<Array<Record<string, unknown>>>;

/** BENCH_DATABASE picks another name, so two people can benchmark side by side on one server. */
export const BENCH_DATABASE = process.env.BENCH_DATABASE ?? 'dateline_bench';

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** PostgreSQL: drops and recreates `dateline_bench` unless it is kept for --reuse. */
export async function openPostgres(
  serverUrl: string,
  options: { recreate: boolean; poolMax: number; statementTimeoutMs: number },
): Promise<BenchDatabase> {
  const admin = await createDb({ databaseUrl: withDatabase(serverUrl, 'postgres') });
  try {
    const exists = await sql`select 1 from pg_database where datname = ${BENCH_DATABASE}`.execute(admin.db);
    if (options.recreate || exists.rows.length === 0) {
      await sql`drop database if exists ${sql.id(BENCH_DATABASE)} with (force)`.execute(admin.db);
      await sql`create database ${sql.id(BENCH_DATABASE)}`.execute(admin.db);
    }
  } finally {
    await admin.db.destroy();
  }
  const url = withDatabase(serverUrl, BENCH_DATABASE);
  const handle = await createDb({ databaseUrl: url, poolMax: 2 });
  const app = await createDb({ databaseUrl: url, poolMax: options.poolMax, statementTimeoutMs: options.statementTimeoutMs });
  // Dates stay 'YYYY-MM-DD' strings, as the app reads them (a keyset cursor is built from one).
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === 1082 ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString: url, max: options.poolMax, types });
  const { rows } = await pool.query<{ server_version: string }>('show server_version');
  return {
    handle,
    appDb: app.db,
    url,
    description: `PostgreSQL ${rows[0]!.server_version} (${new URL(url).host})`,
    raw: async (text, values) => (await pool.query(text, values as unknown[])).rows,
    session: async (work) => {
      const client = await pool.connect();
      try {
        return await work(async (text, values) => (await client.query(text, values as unknown[])).rows);
      } finally {
        client.release();
      }
    },
    close: async () => {
      await pool.end();
      await app.db.destroy();
      await handle.db.destroy();
    },
  };
}

/** Embedded: an in-memory PGlite, as `npm start` without DATABASE_URL runs it (minus the data dir). */
export async function openEmbedded(): Promise<BenchDatabase> {
  const handle = await createDb({});
  const pglite = handle.pglite!;
  const { rows } = await pglite.query<{ server_version: string }>('show server_version');
  return {
    handle,
    appDb: handle.db,
    description: `PGlite (PostgreSQL ${rows[0]!.server_version}, in memory, in process)`,
    raw: async (text, values) => (await pglite.query<Record<string, unknown>>(text, values as unknown[])).rows,
    session: async (work) => work(async (text, values) => (await pglite.query<Record<string, unknown>>(text, values as unknown[])).rows),
    close: () => handle.db.destroy(),
  };
}
