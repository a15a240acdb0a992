import pg from 'pg';
import { startApi } from './support/api-process.ts';
import { createTenant, openScenarioDatabase } from './support/database.ts';
import { acknowledged, call, isProblem, type Reply } from './support/http.ts';
import { AcknowledgedWrites, writer } from './support/incidents.ts';
import { checkAcknowledged, checkIntegrity } from './support/integrity.ts';
import { percentile, Recorder, runClients, sleep } from './support/load.ts';
import { createReplicatedClusters } from './support/replicated-cluster.ts';
import type { Scenario } from './support/scenario.ts';

const ANONYMOUS = 6;
const RESEARCHERS = 2;
const WRITERS = 4;
const MAX_LAG_MS = 1_000;
/** The API checks each server's position this often (src/db/replicas.ts). */
const CHECK_EVERY_MS = 250;

/** What happens to the replica, and when (fractions of the run). */
const PHASES = [
  { name: 'normal', at: 0 },
  { name: 'replay paused (lag)', at: 0.15 },
  { name: 'replay resumed', at: 0.4 },
  { name: 'replica stopped', at: 0.55 },
  { name: 'replica restarted', at: 0.65 },
  { name: 'replica promoted', at: 0.8 },
] as const;

interface Answer {
  client: number;
  phase: number;
  /** performance.now() when the request was sent, and answered. */
  sent: number;
  reply: Reply;
  dataVersion?: number | undefined;
}

/**
 * The API with one streaming replica (pg_basebackup -R into a cluster of its own), under
 * anonymous and researcher readers and editor writers, while the replica lags (its replay
 * paused), is stopped and restarted, and is promoted. What must hold (README, "Read replicas"):
 * answers are never older than REPLICA_MAX_LAG_MS plus the check interval; a client never sees
 * the data version go back; a writer reads its own writes; a stopped replica costs at most the
 * requests in flight on it; a promoted replica serves nothing; every acknowledged write is stored.
 */
export const replica: Scenario = {
  id: 'replica',
  summary: `${ANONYMOUS} anonymous + ${RESEARCHERS} researcher readers, ${WRITERS} writers; the replica lags, stops, restarts, is promoted`,
  defaultSeconds: 40,
  quick: false,
  embedded: false,
  run: async ({ seconds, report, log }) => {
    log('creating a primary and a streaming replica (initdb, pg_basebackup -R)');
    const clusters = await createReplicatedClusters();
    // Direct connections to both servers, for the sampling (the replica's is replaced when it restarts).
    const watch: { primary?: pg.Client; replica?: pg.Client } = {};
    try {
      const database = await openScenarioDatabase('replica', { serverUrl: clusters.primary.url('postgres') });
      const name = new URL(database.env.DATABASE_URL!).pathname.slice(1);
      const writers = await database.use(async (db) => Promise.all(Array.from({ length: WRITERS }, () => createTenant(db, 'editor', 1))));
      const researchers = await database.use((db) => createTenant(db, 'researcher', RESEARCHERS));
      const primary = (watch.primary = await connect(clusters.primary.url(name)));
      watch.replica = await connect(clusters.replica.url(name), 10_000);
      await untilCaughtUp(primary, watch.replica);
      const api = await startApi({
        ...database.env,
        DATABASE_REPLICA_URLS: clusters.replica.url(name),
        REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
        RATE_LIMIT_ANONYMOUS: '1000000',
        RATE_LIMIT_AUTHENTICATED: '1000000',
      });

      // The primary's data version every 100 ms: how stale an answer was is read against it.
      const versions: Array<{ at: number; version: number }> = [];
      // Transactions per database, per phase: who served the reads.
      const transactions: Array<{ phase: number; at: number; primary: number; replica: number | undefined }> = [];
      let phase = 0;
      let finished = false;
      const sampler = (async () => {
        let tick = 0;
        while (!finished) {
          const at = performance.now();
          const { rows } = await primary.query<{ version: string }>('select version from data_version');
          versions.push({ at, version: Number(rows[0]!.version) });
          if (tick++ % 5 === 0) {
            const onReplica = await committed(watch.replica!, name).catch(() => undefined);
            transactions.push({ phase, at, primary: await committed(primary, name), replica: onReplica });
          }
          await sleep(100);
        }
      })();

      const recorder = new Recorder();
      const writes = new AcknowledgedWrites();
      const answers: Answer[] = [];
      const readYourWrites = { checked: 0, failed: [] as string[] };
      const writeSteps = writers.map((tenant) => writer(() => api.url, tenant.keys[0]!, 'replica', recorder, writes));
      const createdBy = writers.map(() => 0);
      const etags: Array<string | undefined> = [];

      log(
        `${ANONYMOUS + RESEARCHERS + WRITERS} clients for ${seconds} s; ${PHASES.map((p) => `${p.name} at ${Math.round(p.at * seconds)} s`).join(', ')}`,
      );
      const started = performance.now();
      const events = (async () => {
        for (const [index, next] of PHASES.entries()) {
          await sleep(Math.max(0, started + next.at * seconds * 1000 - performance.now()));
          if (next.name === 'replay paused (lag)') await clusters.replica.pauseReplay();
          if (next.name === 'replay resumed') await clusters.replica.resumeReplay();
          if (next.name === 'replica stopped') await clusters.replica.stop('fast');
          if (next.name === 'replica restarted') {
            await clusters.replica.start();
            await watch.replica!.end().catch(() => {});
            watch.replica = await connect(clusters.replica.url(name), 10_000);
          }
          if (next.name === 'replica promoted') await clusters.replica.promote();
          phase = index;
          log(`${((performance.now() - started) / 1000).toFixed(1)} s: ${next.name}`);
        }
        await sleep(Math.max(0, started + seconds * 1000 - performance.now()));
        finished = true;
      })();

      await runClients(
        ANONYMOUS + RESEARCHERS + WRITERS,
        () => finished,
        async (client) => {
          if (client >= ANONYMOUS + RESEARCHERS) {
            const index = client - ANONYMOUS - RESEARCHERS;
            const reply = await writeSteps[index]!();
            if (acknowledged(reply) && reply.status === 201) createdBy[index]!++;
            // Its own statistics (every role's may come from a replica), right after its write.
            const stats = await call(api.url, 'GET', `/v1/stats?organisation=${writers[index]!.organisationId}&includeDebunked=true`, {
              key: writers[index]!.keys[0],
            });
            recorder.record('writer stats', stats);
            if (acknowledged(stats) && acknowledged(reply)) {
              readYourWrites.checked++;
              if (stats.body.totals.incidents !== createdBy[index]) {
                readYourWrites.failed.push(`writer ${index}: ${stats.body.totals.incidents} counted, ${createdBy[index]} created`);
              }
            }
            if (reply.status === 503) await sleep(100);
            return;
          }
          const researcher = client >= ANONYMOUS ? researchers.keys[client - ANONYMOUS] : undefined;
          // Half the anonymous readers revalidate with the ETag they hold, as a browser or nginx does.
          const etag = client % 2 === 1 ? etags[client] : undefined;
          const path = researcher ? '/v1/stats?groupBy=country' : `/v1/incidents?limit=20`;
          const sent = performance.now();
          const reply = recorder.record(
            researcher ? 'researcher stats' : 'anonymous list',
            await call(api.url, 'GET', path, {
              key: researcher,
              headers: etag ? { 'if-none-match': etag } : {},
            }),
          );
          const version = reply.status === 304 ? versionOfEtag(etag) : reply.body?.meta?.dataVersion;
          if (reply.status === 200 && client % 2 === 1) etags[client] = reply.headers.get('etag') ?? undefined;
          answers.push({ client, phase, sent, reply, dataVersion: typeof version === 'number' ? version : undefined });
          if (reply.status === 503) await sleep(100);
        },
      );
      await events;
      await sampler;
      await api.stop();

      // How stale each answer was: from when the primary first held a newer version than the
      // answer's, to when the request was sent (0 if the answer was current then).
      const staleness = (answer: Answer) => {
        const newer = versions.find((sample) => sample.version > answer.dataVersion!);
        return newer && newer.at < answer.sent ? answer.sent - newer.at : 0;
      };
      const versioned = answers.filter((answer) => answer.dataVersion !== undefined);
      report.figure('requests', `${recorder.total} (${recorder.describeOutcomes()})`);
      report.figure('latency', recorder.describeKinds());
      report.figure('writes acknowledged', `${writes.creates.length} creates, ${writes.updates.length} updates`);
      for (const [index, { name: phaseName }] of PHASES.entries()) {
        const inPhase = versioned.filter((answer) => answer.phase === index).map(staleness);
        const samples = transactions.filter((sample) => sample.phase === index);
        report.figure(
          phaseName,
          `${inPhase.length} read answers; staleness p50 ${percentile(inPhase, 50).toFixed(0)} ms, p99 ${percentile(inPhase, 99).toFixed(0)} ms, max ${Math.max(0, ...inPhase).toFixed(0)} ms; ${rates(samples)}`,
        );
      }

      const bound = MAX_LAG_MS + 4 * CHECK_EVERY_MS;
      const worst = Math.max(0, ...versioned.map(staleness));
      report.check(`no read answer older than REPLICA_MAX_LAG_MS + 4 checks (${bound} ms)`, worst <= bound, `max ${worst.toFixed(0)} ms`);
      const backwards = Array.from({ length: ANONYMOUS + RESEARCHERS }, (_, client) => {
        const seen = versioned.filter((answer) => answer.client === client).map((answer) => answer.dataVersion!);
        return seen.filter((version, index) => index > 0 && version < seen[index - 1]!).length;
      }).reduce((sum, n) => sum + n, 0);
      report.check('no reader saw the data version go back', backwards === 0, `${backwards} steps back`);
      report.check(
        'every writer read its own writes (its statistics counted all it had created)',
        readYourWrites.checked > 0 && readYourWrites.failed.length === 0,
        `${readYourWrites.checked} checks${readYourWrites.failed.length ? `; ${readYourWrites.failed.slice(0, 3).join('; ')}` : ''}`,
      );
      const stopAt = started + PHASES[3].at * seconds * 1000;
      const unavailable = answers.filter((answer) => answer.reply.status === 503);
      const outsideStop = unavailable.filter((answer) => answer.sent < stopAt - 1_000 || answer.sent > stopAt + 2_000);
      report.check(
        'only 2xx and 304, but for 503s of requests in flight on the replica as it stopped (at most one a reader)',
        recorder.unexpected((outcome) => outcome === '503 database-unavailable') === 0 &&
          outsideStop.length === 0 &&
          unavailable.length <= ANONYMOUS + RESEARCHERS &&
          unavailable.every((answer) => isProblem(answer.reply, 'database-unavailable')),
        `${unavailable.length} x 503; ${recorder.describeOutcomes()}`,
      );
      const share = (index: number) => replicaShare(transactions.filter((sample) => sample.phase === index));
      report.check('the replica served most reads while healthy', share(0) > 0.5, `${(share(0) * 100).toFixed(0)}% of transactions`);
      report.check(
        'and again after it caught up, and after its restart',
        share(2) > 0.3 && share(4) > 0.3,
        `${(share(2) * 100).toFixed(0)}%, ${(share(4) * 100).toFixed(0)}%`,
      );
      report.check(
        "the promoted replica served no reads (only the API's position checks and the sampler)",
        perSecond(
          transactions.filter((sample) => sample.phase === 5),
          'replica',
        ) < 20,
        `${perSecond(
          transactions.filter((sample) => sample.phase === 5),
          'replica',
        ).toFixed(1)} transactions/s`,
      );
      await database.use(async (db) => {
        await checkAcknowledged(db, writes, report);
        await checkIntegrity(db, report);
      });
      await database.drop();
    } finally {
      for (const client of [watch.primary, watch.replica]) await client?.end().catch(() => {});
      await clusters.remove();
    }
  },
};

async function connect(url: string, timeoutMs = 0): Promise<pg.Client> {
  for (const started = performance.now(); ;) {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {}); // the replica is stopped on purpose
    try {
      await client.connect();
      return client;
    } catch (error) {
      if (performance.now() - started > timeoutMs) throw error;
      await sleep(200);
    }
  }
}

async function untilCaughtUp(primary: pg.Client, replica: pg.Client) {
  const version = async (client: pg.Client) => Number((await client.query('select version from data_version')).rows[0].version);
  for (const started = performance.now(); (await version(replica)) !== (await version(primary));) {
    if (performance.now() - started > 30_000) throw new Error('the replica did not catch up within 30 s');
    await sleep(100);
  }
}

/** Transactions committed in the database (pg_stat_database, flushed by each backend about once a second). */
async function committed(client: pg.Client, database: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>('select xact_commit as n from pg_stat_database where datname = $1', [database]);
  return Number(rows[0]!.n);
}

function perSecond(samples: Array<{ at: number; primary: number; replica: number | undefined }>, server: 'primary' | 'replica'): number {
  const known = samples.filter((sample) => sample[server] !== undefined);
  if (known.length < 2) return 0;
  const first = known[0]!;
  const last = known.at(-1)!;
  return ((last[server]! - first[server]!) * 1000) / (last.at - first.at);
}

function replicaShare(samples: Array<{ at: number; primary: number; replica: number | undefined }>): number {
  const replica = perSecond(samples, 'replica');
  const primary = perSecond(samples, 'primary');
  return replica + primary > 0 ? replica / (replica + primary) : 0;
}

function rates(samples: Array<{ at: number; primary: number; replica: number | undefined }>): string {
  return `transactions/s: primary ${perSecond(samples, 'primary').toFixed(0)}, replica ${perSecond(samples, 'replica').toFixed(0)}`;
}

function versionOfEtag(etag: string | undefined): number | undefined {
  const match = etag && /"(\d+)-/.exec(etag);
  return match ? Number(match[1]) : undefined;
}
