import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.ts';
import type { Database } from './database.ts';
import { PGlitePool } from './pglite-pool.ts';
import { registerReplicaSet, ReplicaSet } from './replicas.ts';

/**
 * Both modes hand rows back in the same shapes, so no code (and no test) needs to know which
 * one it runs on: bigint counts as numbers, `date` columns as 'YYYY-MM-DD' strings (a JS Date
 * would shift them by the server's time zone), timestamps as Date, json parsed.
 */
const OID = { int8: 20, date: 1082 } as const;
const asNumber = (value: string) => Number(value);
const asIs = (value: string) => value;

export type Db = Kysely<Database>;

export interface DbHandle {
  db: Db;
  mode: 'postgres' | 'embedded';
  /** The raw PGlite instance in embedded mode (tests dump it as a template). */
  pglite?: PGlite;
  /** The read replicas, when DATABASE_REPLICA_URLS names some; also found with replicaSetOf(db). */
  replicas?: ReplicaSet;
}

export interface DbOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  poolMax?: number | undefined;
  /** PostgreSQL only: cancel statements running longer than this. */
  statementTimeoutMs?: number | undefined;
  /** Called when an idle PostgreSQL connection fails (server restart, network); the pool replaces it. */
  onPoolError?: ((error: Error) => void) | undefined;
  /** A data-dir dump to start from: in memory (tests), or loaded into an empty `dataDir` (npm run restore). */
  loadDataDir?: Blob | File | undefined;
  /** PostgreSQL streaming replicas for reads that may be a moment old (src/db/replicas.ts). */
  replicaUrls?: string[] | undefined;
  /** A replica further behind the primary than this is skipped. */
  replicaMaxLagMs?: number | undefined;
  /** How often the replicas' positions are checked (default 250 ms). */
  replicaCheckEveryMs?: number | undefined;
}

export async function createDb(options: DbOptions): Promise<DbHandle> {
  if (options.replicaUrls?.length && !options.databaseUrl) {
    throw new Error('Read replicas (DATABASE_REPLICA_URLS) need PostgreSQL (DATABASE_URL): the embedded database has none.');
  }
  if (options.databaseUrl) {
    const pool = createPgPool(options.databaseUrl, options);
    if (!options.replicaUrls?.length) return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), mode: 'postgres' };
    // Destroying the primary's handle closes the replicas too: they are part of it (replicaSetOf).
    let replicas: ReplicaSet | undefined;
    const closing: PostgresPool = {
      Client: (pool as unknown as PostgresPool).Client,
      options: pool.options,
      connect: () => pool.connect(),
      end: async () => {
        await replicas?.close();
        await pool.end();
      },
    };
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: closing }) });
    replicas = new ReplicaSet({
      primary: db,
      primaryPool: pool,
      primaryPoll: createPollPool(options.databaseUrl, options),
      replicas: options.replicaUrls.map((url, index) => ({
        name: `replica ${index + 1} (${new URL(url).host})`,
        pool: createPgPool(url, { ...options, connectionTimeoutMs: 2_000 }),
        poll: createPollPool(url, options),
      })),
      maxLagMs: options.replicaMaxLagMs ?? 2_000,
      checkEveryMs: options.replicaCheckEveryMs,
    });
    registerReplicaSet(replicas);
    return { db, mode: 'postgres', replicas };
  }

  let unlock = () => {};
  if (options.dataDir) {
    await mkdir(options.dataDir, { recursive: true });
    unlock = lockDataDir(options.dataDir);
  }
  const pglite = await PGlite.create({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
    parsers: { [OID.int8]: asNumber, [OID.date]: asIs },
    extensions: { pg_trgm },
  }).catch((error: unknown) => {
    unlock();
    throw error;
  });
  const dialect = new PostgresDialect({ pool: new PGlitePool(pglite, unlock) });
  return { db: new Kysely<Database>({ dialect }), mode: 'embedded', pglite };
}

function createPgPool(url: string, options: DbOptions & { connectionTimeoutMs?: number }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    // Fail fast while the database is unreachable instead of queueing requests forever.
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    // JIT compilation cost 1.6 s per statistics query at 1M incidents for no gain (BENCHMARKS.md).
    options: '-c jit=off',
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === OID.int8) return asNumber;
        if (oid === OID.date) return asIs;
        return pg.types.getTypeParser(oid, format);
      }) as typeof pg.types.getTypeParser,
    },
  });
  // Without a listener, one dropped connection would crash the process. The pool listens on
  // idle connections only; a connection checked out when PostgreSQL goes away (a restart
  // terminates it between two statements of a transaction) emits its error on the client, so
  // every client gets the listener too. The request then fails with 503 and the pool drops the
  // connection (npm run reliability -- postgres-restart).
  const onError = options.onPoolError ?? ((error: Error) => console.error('PostgreSQL connection error:', error.message));
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/** One connection for the replicas' position checks, with a client-side timeout: a hung server must not hang the checks. */
function createPollPool(url: string, options: DbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: 1_000,
    query_timeout: 1_000,
    application_name: 'dateline replica check',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === OID.int8 ? asNumber : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  const onError = options.onPoolError ?? (() => {});
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}
