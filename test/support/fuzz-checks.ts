import { sql, type RawBuilder } from 'kysely';
import { expect } from 'vitest';
import type { Db } from '../../src/db/create-db.ts';
import type { ApiResponse } from './test-app.ts';

/**
 * Checks shared by the fuzz, injection and limits tests: every answer is clean (never 5xx,
 * every error a problem+json document), and a rejected request leaves the database as it was.
 */

/** One seed for every property, so a failure replays; FUZZ_SEED=<n> explores other inputs. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261126);

/** FUZZ_SCALE=10 runs ten times as many inputs, for a longer hunt than the suite can afford. */
const FUZZ_SCALE = Number(process.env.FUZZ_SCALE ?? 1);

/** A timeout for a test that runs properties: generous, since the machine may be shared and busy. */
export const FUZZ_TEST_TIMEOUT_MS = 180_000 * FUZZ_SCALE;

/** fast-check parameters: deterministic, and on failure the seed and path are in the report. */
export function fuzzRuns(numRuns: number) {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * FUZZ_SCALE)), endOnFailure: true } as const;
}

export function expectCleanAnswer(response: ApiResponse, context = ''): void {
  const where = `${context}\n${response.status} ${response.text.slice(0, 2000)}`;
  expect(response.status, where).toBeLessThan(500);
  if (response.status < 400) return;
  expect(response.headers.get('content-type'), where).toMatch(/^application\/problem\+json/);
  expect(response.body, where).toMatchObject({
    type: expect.stringMatching(/^\/problems\/[a-z-]+$/),
    title: expect.any(String),
    status: response.status,
    requestId: expect.any(String),
  });
}

/**
 * Row counts of every table plus the data version (bumped by a trigger on every change to an
 * incident or its parts): if a request wrote anything, this changes.
 */
export async function databaseFingerprint(db: Db): Promise<Record<string, number>> {
  let query = fingerprintQueries.get(db);
  if (!query) {
    const { rows: tables } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db);
    const counts = tables.map(({ name }) => sql`(select count(*) from ${sql.table(name)}) as ${sql.ref(name)}`);
    query = sql<Record<string, number>>`select ${sql.join(counts)}, (select version from data_version) as data_version_now`;
    fingerprintQueries.set(db, query);
  }
  const { rows } = await query.execute(db);
  return Object.fromEntries(Object.entries(rows[0]!).map(([name, value]) => [name, Number(value)]));
}
const fingerprintQueries = new WeakMap<Db, RawBuilder<Record<string, number>>>();
