import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { insertApiKey } from '../../../src/auth/api-key.queries.ts';
import type { Role } from '../../../src/auth/actor.ts';
import { createDb, type Db } from '../../../src/db/create-db.ts';
import { migrateToLatest } from '../../../src/db/migrate.ts';
import { startEncryption } from '../../../src/incidents/encryption-start.ts';
import { insertOrganisation } from '../../../src/organisations/organisation.queries.ts';

/** The shared PostgreSQL; scenarios only ever create and drop their own database on it. */
export const SHARED_POSTGRES = process.env.RELIABILITY_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The scenarios' key-encryption key (README, "Encryption at rest"): one per run, handed to the API processes. */
const DATA_ENCRYPTION_KEY = randomBytes(32).toString('base64');

/**
 * A scenario's own database: `reliability_<scenario>_<pid>` on PostgreSQL, or a fresh embedded
 * data folder. `env` configures the API process for it. The embedded database admits one
 * process at a time, so there `use` may only run while the API is stopped.
 */
export interface ScenarioDatabase {
  mode: 'postgres' | 'embedded';
  env: Record<string, string>;
  use: <T>(work: (db: Db) => Promise<T>) => Promise<T>;
  drop: () => Promise<void>;
}

export async function openScenarioDatabase(
  scenario: string,
  options: { embedded?: boolean; serverUrl?: string } = {},
): Promise<ScenarioDatabase> {
  return options.embedded ? openEmbedded(scenario) : openPostgres(scenario, options.serverUrl ?? SHARED_POSTGRES);
}

async function openPostgres(scenario: string, serverUrl: string): Promise<ScenarioDatabase> {
  const name = `reliability_${scenario.replaceAll('-', '_')}_${process.pid}`;
  const { db: admin } = await createDb({ databaseUrl: serverUrl, poolMax: 1, onPoolError: () => {} });
  await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
  await sql`create database ${sql.id(name)}`.execute(admin);
  const url = withDatabase(serverUrl, name);
  const { db } = await createDb({ databaseUrl: url, poolMax: 4, onPoolError: () => {} });
  await migrateToLatest(db);
  await startEncryption(db, { key: DATA_ENCRYPTION_KEY });
  return {
    mode: 'postgres',
    env: { DATABASE_URL: url, DATA_ENCRYPTION_KEY },
    use: (work) => work(db),
    drop: async () => {
      await db.destroy();
      await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
      await admin.destroy();
    },
  };
}

async function openEmbedded(scenario: string): Promise<ScenarioDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `dateline-rel-${scenario}-`));
  const use = async <T>(work: (db: Db) => Promise<T>) => {
    const { db } = await createDb({ dataDir });
    try {
      await migrateToLatest(db);
      await startEncryption(db, { key: DATA_ENCRYPTION_KEY });
      return await work(db);
    } finally {
      await db.destroy();
    }
  };
  return {
    mode: 'embedded',
    env: { DATA_DIR: dataDir, SEED_ON_FIRST_START: 'false', DATA_ENCRYPTION_KEY },
    use,
    drop: () => rm(dataDir, { recursive: true, force: true }),
  };
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface Tenant {
  organisationId: string;
  /** Keys of the given role, one per client so each has its own rate-limit budget. */
  keys: string[];
  keyIds: string[];
}

/** An organisation with `count` keys of one role, written straight to the database. */
export async function createTenant(db: Db, role: Role, count: number): Promise<Tenant> {
  const organisation = await insertOrganisation(db, `Reliability ${randomUUID().slice(0, 8)}`);
  const created = [];
  for (let i = 0; i < count; i++) created.push(await insertApiKey(db, { organisationId: organisation.id, name: `${role} ${i}`, role }));
  return { organisationId: organisation.id, keys: created.map((key) => key.key), keyIds: created.map((key) => key.id) };
}
