import { parseArgs } from 'node:util';
import type { Actor } from '../src/auth/actor.ts';
import { PublishedFacts } from '../src/statistics/published-facts.ts';
import { DIMENSIONS, statisticsQuerySchema } from '../src/statistics/statistics.schemas.ts';
import { statistics } from '../src/statistics/statistics.queries.ts';
import { openPostgres } from './database.ts';
import { percentile } from './stats.ts';

/**
 * Every dimension and every pair of dimensions, unfiltered and with a victim, a claim and an
 * incident filter, answered from the facts in memory (src/statistics/published-facts.ts) for an
 * anonymous caller and a researcher, in process (no HTTP): which pair is the slowest. With
 * --sql, also each question on the SQL path the statistics take without the facts in memory,
 * once (slow: a second or two each at a million incidents).
 *
 *   node --experimental-strip-types --expose-gc bench/statistics-pairs.ts [--sql] [--repeat 5]
 *
 * On the dataset of `npm run bench` (run that first, and run this under the same lock:
 * `flock /tmp/bench.lock node ...`). Each answer gets a new dateFrom before any incident, so no
 * kept selection is reused: every figure is an uncached answer.
 */
const { values: args } = parseArgs({
  options: { sql: { type: 'boolean', default: false }, repeat: { type: 'string', default: '5' } },
});
const repeat = Number(args.repeat);
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = await openPostgres(serverUrl, { recreate: false, poolMax: 4, statementTimeoutMs: 0 });
const db = database.appDb;

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
const facts = new PublishedFacts(db);
const loadStarted = performance.now();
await facts.load();
gc?.();
const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
console.log(
  `Loaded the facts (data version ${facts.dataVersion}) in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s; ` +
    `${((heapAfter - heapBefore) / 1024 / 1024).toFixed(0)} MB of heap and array buffers.`,
);

const organisation = await db.selectFrom('organisations').select('id').orderBy('name').executeTakeFirstOrThrow();
const readers: Array<[string, Actor]> = [
  ['anonymous', { kind: 'public' }],
  ['researcher', { kind: 'key', keyId: '00000000-0000-4000-8000-000000000001', organisationId: organisation.id, role: 'researcher' }],
];
const GROUPINGS = [
  ...DIMENSIONS,
  ...DIMENSIONS.flatMap((first, index) => DIMENSIONS.slice(index + 1).map((second) => `${first},${second}`)).filter(
    (pair) => pair !== 'year,month',
  ),
];
const FILTERS = ['', 'victimRole=journalist&victimOutcome=killed', 'actorType=police,military', 'country=SY,IQ&attackType=killing'];

let day = 0;
const uncached = (query: string) => {
  day++;
  const { groupBy, includeDebunked, ...filters } = statisticsQuerySchema.parse(
    Object.fromEntries(
      new URLSearchParams(`${query}&dateFrom=${new Date(Date.UTC(1900, 0, 1 + (day % 20000))).toISOString().slice(0, 10)}`),
    ),
  );
  return { groupBy, filters, includeDebunked };
};

const rows: Array<{ reader: string; query: string; p50: number; max: number; sql?: number }> = [];
for (const [reader, actor] of readers) {
  for (const filter of FILTERS) {
    for (const groupBy of GROUPINGS) {
      const query = [`groupBy=${groupBy}`, filter].filter(Boolean).join('&');
      const durations: number[] = [];
      for (let i = 0; i < repeat; i++) {
        const question = uncached(query);
        const started = performance.now();
        const answer = await facts.answer(question, actor, facts.dataVersion);
        durations.push(performance.now() - started);
        if (!answer) throw new Error(`the facts in memory did not answer ${query}`);
      }
      const row: (typeof rows)[number] = { reader, query, p50: percentile(durations, 50), max: Math.max(...durations) };
      if (args.sql) {
        const started = performance.now();
        await statistics(db, actor, uncached(query)); // the SQL path: these facts are not registered for `db`
        row.sql = performance.now() - started;
      }
      rows.push(row);
    }
  }
}

const slowest = [...rows].sort((a, b) => b.p50 - a.p50);
console.log(`\n${rows.length} questions, ${repeat} uncached answers each. The 15 slowest (p50):\n`);
console.log(`| caller | question | p50 ms | max ms |${args.sql ? ' SQL ms |' : ''}`);
console.log(`| --- | --- | ---: | ---: |${args.sql ? ' ---: |' : ''}`);
for (const row of slowest.slice(0, 15)) {
  console.log(
    `| ${row.reader} | ${row.query} | ${row.p50.toFixed(1)} | ${row.max.toFixed(1)} |${row.sql === undefined ? '' : ` ${row.sql.toFixed(0)} |`}`,
  );
}
for (const [reader] of readers) {
  const own = rows.filter((row) => row.reader === reader);
  console.log(
    `\n${reader}: median of all p50s ${percentile(
      own.map((row) => row.p50),
      50,
    ).toFixed(1)} ms; slowest ${own.sort((a, b) => b.p50 - a.p50)[0]!.query} at ${own[0]!.p50.toFixed(1)} ms.`,
  );
}
await database.close();
