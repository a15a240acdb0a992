import { startApi } from './support/api-process.ts';
import { createTenant, openScenarioDatabase } from './support/database.ts';
import { call } from './support/http.ts';
import { AcknowledgedWrites, incidentBody, writer } from './support/incidents.ts';
import { checkAcknowledged, checkIntegrity } from './support/integrity.ts';
import { deadline, percentile, Recorder, runClients, sleep } from './support/load.ts';
import type { Scenario } from './support/scenario.ts';

const READERS = 12;
const WRITERS = 4;
const SEED_INCIDENTS = 300;

/** What the readers cycle through: the list, one incident, a name search, two statistics. */
function readPaths(ids: string[], n: number): { kind: string; path: string } {
  switch (n % 6) {
    case 0:
    case 1:
      return { kind: 'list', path: `/v1/incidents?limit=50&country=${['TR', 'SY', 'IQ', 'MX'][n % 4]}` };
    case 2:
      return { kind: 'get', path: `/v1/incidents/${ids[n % ids.length]}` };
    case 3:
      return { kind: 'search', path: `/v1/incidents?q=${encodeURIComponent(`Reporter mixed ${n % 50}`)}&limit=20` };
    case 4:
      return { kind: 'stats', path: '/v1/stats?groupBy=year' };
    default:
      return { kind: 'stats', path: '/v1/stats?groupBy=country,attackType' };
  }
}

/**
 * Sustained mixed load over loopback: readers (list, get, search, statistics) and writers
 * (create, PATCH) against one API process on PostgreSQL. Throughput, latency, no error answers
 * (429 aside), and the server's memory sampled every second: it must not keep growing.
 */
export const mixedLoad: Scenario = {
  id: 'mixed-load',
  summary: `${READERS} readers (list, get, search, stats) + ${WRITERS} writers: throughput, p99, 0 errors, memory flat`,
  defaultSeconds: 60,
  quick: false,
  embedded: true,
  run: async ({ seconds, embedded, report, log }) => {
    const database = await openScenarioDatabase('mixed-load', { embedded });
    try {
      const editors = await database.use((db) => createTenant(db, 'editor', WRITERS + 1));
      const researcher = await database.use((db) => createTenant(db, 'researcher', 1));
      const api = await startApi({ ...database.env, RATE_LIMIT_AUTHENTICATED: '1000000' });

      log(`seeding ${SEED_INCIDENTS} incidents`);
      const ids: string[] = [];
      const seedKey = editors.keys[WRITERS]!;
      await runClients(
        4,
        () => ids.length >= SEED_INCIDENTS,
        async () => {
          const reply = await call(api.url, 'POST', '/v1/incidents', {
            key: seedKey,
            body: incidentBody(ids.length, `mixed ${ids.length % 50}`),
          });
          if (reply.status !== 201) throw new Error(`seeding failed: ${reply.status}`);
          ids.push(reply.body.id);
        },
      );

      log(`${READERS} readers + ${WRITERS} writers for ${seconds} s`);
      const recorder = new Recorder();
      const writes = new AcknowledgedWrites();
      const writers = editors.keys.slice(0, WRITERS).map((key) => writer(() => api.url, key, 'mixed-load', recorder, writes));
      const readCounters = Array.from({ length: READERS }, (_, i) => i * 7);
      const rss: number[] = [];
      const done = deadline(seconds);
      const sampler = (async () => {
        while (!done()) {
          rss.push(api.rssMb() ?? 0);
          await sleep(1000);
        }
      })();
      const started = performance.now();
      await runClients(READERS + WRITERS, done, async (client) => {
        if (client >= READERS) return writers[client - READERS]!();
        const { kind, path } = readPaths(ids, readCounters[client]!++);
        return recorder.record(kind, await call(api.url, 'GET', path, { key: researcher.keys[0] }));
      });
      const elapsed = (performance.now() - started) / 1000;
      await sampler;
      await api.stop();

      report.figure(
        'requests',
        `${recorder.total.toLocaleString('en')} in ${elapsed.toFixed(0)} s = ${(recorder.total / elapsed).toFixed(0)} req/s`,
      );
      report.figure('latency, all', `p50 ${recorder.percentile(50).toFixed(0)} ms, p99 ${recorder.percentile(99).toFixed(0)} ms`);
      report.figure('by kind (count, p50, p99)', recorder.describeKinds());
      report.figure('answers', recorder.describeOutcomes());
      report.check('0 error answers other than 429', recorder.unexpected() === 0, `${recorder.unexpected()} errors`);

      // Memory: the first third is warm-up (RSS climbs for about 30 s, then levels off); the
      // median of the middle third is compared with the median of the last.
      const third = Math.max(1, Math.floor(rss.length / 3));
      const middle = percentile(rss.slice(third, 2 * third), 50);
      const last = percentile(rss.slice(2 * third), 50);
      const series = rss
        .filter((_, i) => i % 10 === 0)
        .map((mb) => mb.toFixed(0))
        .join(', ');
      report.figure(
        'server RSS (MB)',
        `middle third ${middle.toFixed(0)}, last third ${last.toFixed(0)}, max ${Math.max(...rss).toFixed(0)}; every 10 s: ${series}`,
      );
      report.check(
        'memory flat (last third within 10% of the middle third)',
        last <= middle * 1.1,
        `${(((last - middle) / middle) * 100).toFixed(0)}%`,
      );

      await database.use(async (db) => {
        await checkAcknowledged(db, writes, report);
        await checkIntegrity(db, report);
      });
    } finally {
      await database.drop();
    }
  },
};
