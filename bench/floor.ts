import {
  DummyDriver,
  Kysely,
  NoResultError,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
} from 'kysely';
import type { Db } from '../src/db/create-db.ts';
import type { Database } from '../src/db/database.ts';
import { percentile } from './stats.ts';

/**
 * The SQL floor of an endpoint: the statements its handler sends, captured by running the
 * handler's own query functions against a Kysely that records instead of executing (a dummy
 * driver answers every statement with no rows), then replayed on a plain driver connection.
 */
export async function captureQueries(...runs: Array<(db: Db) => Promise<unknown>>): Promise<CompiledQuery[]> {
  const queries: CompiledQuery[] = [];
  const recorder = new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (event) => {
      if (event.level === 'query') queries.push(event.query);
    },
  });
  for (const run of runs) {
    try {
      await run(recorder);
    } catch (error) {
      // executeTakeFirstOrThrow after a recorded statement: the statement is what we wanted.
      if (!(error instanceof NoResultError)) throw error;
    }
  }
  return queries;
}

export interface FloorResult {
  samples: number;
  p50: number;
  p99: number;
}

/**
 * Runs the statements in order, as the handler does, `concurrency` sequences at a time (the
 * same number of connections the HTTP run uses, so both see the same contention), until
 * `maxSamples` sequences or `seconds` have passed.
 */
export async function measureFloor(
  raw: (text: string, values: readonly unknown[]) => Promise<unknown>,
  queries: readonly CompiledQuery[],
  options: { concurrency: number; seconds: number; maxSamples: number },
): Promise<FloorResult> {
  const durations: number[] = [];
  const deadline = performance.now() + options.seconds * 1000;
  const loop = async () => {
    while (durations.length < options.maxSamples && performance.now() < deadline) {
      const started = performance.now();
      for (const query of queries) await raw(query.sql, query.parameters);
      durations.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  return { samples: durations.length, p50: percentile(durations, 50), p99: percentile(durations, 99) };
}
