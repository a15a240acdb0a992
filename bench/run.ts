import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createApp } from '../src/app.ts';
import type { Actor } from '../src/auth/actor.ts';
import { insertApiKey } from '../src/auth/api-key.queries.ts';
import { loadConfig } from '../src/config.ts';
import type { Db } from '../src/db/create-db.ts';
import { nginxAvailable, startNginxProxy, type NginxProxy } from '../scripts/nginx/nginx-proxy.ts';
import { publishedFactsOf } from '../src/statistics/published-facts.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createLogger } from '../src/logger.ts';
import { startEncryption } from '../src/incidents/encryption-start.ts';
import { fillStaleDocuments } from '../src/incidents/incident-documents.ts';

// The bench's own key-encryption key unless one is set; the server processes it starts inherit it.
process.env.DATA_ENCRYPTION_KEY ||= Buffer.alloc(32, 'dateline bench key, not a secret').toString('base64');
import { openEmbedded, openPostgres, type BenchDatabase } from './database.ts';
import { exportExists, exportQueries, measureExport, measureExportFloor, startServerProcess } from './export.ts';
import { measureFloor } from './floor.ts';
import { checkSearchText, existingDataset, generateDataset } from './generate.ts';
import { benchDuplicateFlagging, benchImports } from './imports.ts';
import { benchNames } from './names.ts';
import { runLoad } from './load.ts';
import { findPeer, loadPeer } from './peer.ts';
import { JSON_HEADERS, scenarios } from './scenarios.ts';
import { mb, ms } from './stats.ts';

/**
 * npm run bench [-- --incidents N] [--reuse] [--embedded] [--duration S] [--only a,c] [--only proxy] [--explain] [--peer]
 * Generates the dataset, starts the real app in this process and measures each scenario over
 * HTTP against the same SQL run directly on the driver; then the export (e), the import (i) and
 * duplicate flagging on create (j), see export.ts and imports.ts; names (names.ts) runs on its own
 * small database. `--peer` also loads the scenarios that name a peer path on Directus
 * (bench/peer.ts: PEER_DIRECTUS_URL, PEER_DIRECTUS_TOKEN), and skips it, saying why, without them.
 * Not a test: nothing here runs in npm test.
 */
const { values: args } = parseArgs({
  options: {
    incidents: { type: 'string' },
    reuse: { type: 'boolean', default: false },
    embedded: { type: 'boolean', default: false },
    duration: { type: 'string', default: '10' },
    only: { type: 'string' },
    explain: { type: 'boolean', default: false },
    peer: { type: 'boolean', default: false },
  },
});
const incidents = Number(args.incidents ?? (args.embedded ? 50_000 : 1_000_000));
const seconds = Number(args.duration);
const only = args.only?.split(',');
const log = (message = '') => console.log(message);

const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const config = loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_ANONYMOUS: '1000000000', RATE_LIMIT_AUTHENTICATED: '1000000000' });
// names: search and duplicate precision/recall over name spellings, on a small database of its
// own (bench/names.ts), not the generated dataset; with nothing else in --only, nothing else runs.
if (only?.includes('names')) {
  await benchNames({ config, serverUrl, log });
  if (only.every((id) => id === 'names')) process.exit(0);
}
const database = args.embedded
  ? await openEmbedded()
  : await openPostgres(serverUrl, {
      recreate: !args.reuse,
      poolMax: config.DB_POOL_MAX,
      statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
    });
const { db } = database.handle;
log(`Machine: ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model.trim()}), ${mb(os.totalmem())} RAM, Node ${process.version}`);
log(`Database: ${database.description}`);

await migrateToLatest(db);
const existing = await existingDataset(db);
if (args.reuse && existing === incidents) {
  log(`Reusing the dataset of ${incidents.toLocaleString('en')} incidents.`);
} else {
  if (existing !== undefined) throw new Error(`The database holds a dataset of ${existing} incidents; run without --reuse to regenerate.`);
  log(`Generating ${incidents.toLocaleString('en')} incidents...`);
  const started = performance.now();
  await generateDataset(db, incidents, log);
  log(`Generated in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
}
// After generating: the first start with a key encrypts what generateDataset wrote in clear.
await startEncryption(db, { key: process.env.DATA_ENCRYPTION_KEY });
await printDatasetSummary(db);
const mismatches = await checkSearchText(db);
if (mismatches) throw new Error(`search_text differs from publicSearchText on ${mismatches} sampled incidents`);

const server = await startServer(database.appDb);
// Anonymous statistics come from the published facts in memory (src/statistics/published-facts.ts),
// loaded in the background at start: wait for them, so no scenario measures the load instead.
const factsStarted = performance.now();
await publishedFactsOf(database.appDb)?.ready();
log(`Published facts in memory after ${((performance.now() - factsStarted) / 1000).toFixed(1)} s.`);
// Stored incident documents (migration 0019): a new dataset starts with them all stale; store them
// as the server's background filler would, so that list scenarios measure the stored path.
const documentsStarted = performance.now();
const storedDocuments = await fillStaleDocuments(database.appDb);
if (storedDocuments)
  log(
    `Stored ${storedDocuments.toLocaleString('en')} incident documents in ${((performance.now() - documentsStarted) / 1000).toFixed(1)} s.`,
  );
const peer = args.peer ? await findPeer() : undefined;
if (typeof peer === 'string') log(`No peer measured (--peer): ${peer}.`);
else if (peer) log(`Peer: Directus on ${peer.url}, same concurrency per scenario.`);
log(`\nServer on ${server.url}; ${seconds} s per scenario; load average ${loadAverage()} before.\n`);
log('| scenario | conns | req/s | p50 ms | p99 ms | SQL p50 ms | ratio | status | targets |');
log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
// `--only proxy` picks the scenarios loaded through nginx; nginx starts once, when the first needs it.
let proxy: NginxProxy | undefined;
const chosen = scenarios.filter((s) =>
  !only ? s.via !== 'proxy' || nginxAvailable() : only.includes(s.id) || (s.via && only.includes(s.via)),
);
for (const scenario of chosen) {
  if (scenario.via === 'proxy') proxy ??= await startNginxProxy({ upstreamPort: Number(new URL(server.url).port), workers: 'auto' });
  const baseUrl = scenario.via === 'proxy' ? proxy!.url : server.url;
  const headers = { ...JSON_HEADERS, ...(await scenario.headers?.(server.url, db)) };
  const paths = typeof scenario.paths === 'function' ? await scenario.paths(db) : scenario.paths;
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${baseUrl}${paths[0]}`, { headers });
    await response.arrayBuffer();
    if (response.status !== scenario.expectStatus)
      log(`(warm-up of ${scenario.id}: ${response.status}, expected ${scenario.expectStatus})`);
  }
  const queries = await scenario.queries();
  if (args.explain) await explain(database, scenario.name, queries.slice(1));
  const floor = await measureFloor(database.raw, queries, { concurrency: scenario.connections, seconds: seconds / 2, maxSamples: 3000 });
  // Long enough for about three answers per connection, however slow the endpoint is.
  const runFor = Math.max(seconds, Math.ceil((floor.p50 * 3) / 1000));
  const load = await runLoad({ baseUrl, paths, connections: scenario.connections, seconds: runFor, headers });
  const ratio = load.requests ? load.p50 / floor.p50 : Number.NaN;
  const peerLoad =
    peer && typeof peer !== 'string' && scenario.peer
      ? await loadPeer(peer, scenario.peer(paths), scenario.connections, runFor)
      : undefined;
  const timesPeer = peerLoad?.requests ? load.perSecond / peerLoad.perSecond : undefined;
  const status =
    Object.entries(load.statusCounts)
      .map(([code, count]) => `${count}x${code}`)
      .join(' ') + (load.errors ? ` ${load.errors} errors` : '');
  const targets =
    scenario.targets
      .map(
        (target) =>
          `${target.label}: ${load.requests && target.met({ p50: load.p50, ratio, perSecond: load.perSecond, timesPeer }) ? 'met' : timesPeer === undefined && target.label.includes('peer') ? 'not measured (--peer)' : 'MISSED'}`,
      )
      .join('; ') || '(no target in the issue)';
  log(
    `| ${scenario.id}. ${scenario.name} | ${scenario.connections} | ${load.perSecond.toFixed(load.perSecond < 10 ? 2 : 0)} | ${load.p50} | ${load.p99} | ${ms(floor.p50)} | ${ratio.toFixed(2)} | ${status} | ${targets} |`,
  );
  if (peerLoad) {
    const peerStatus = Object.entries(peerLoad.statusCounts)
      .map(([code, count]) => `${count}x${code}`)
      .join(' ');
    log(
      `| ${scenario.id} peer: Directus, the same question | ${scenario.connections} | ${peerLoad.perSecond.toFixed(peerLoad.perSecond < 10 ? 2 : 0)} | ${peerLoad.p50} | ${peerLoad.p99} | - | - | ${peerStatus} | Dateline ${timesPeer?.toFixed(1) ?? '-'}x its req/s |`,
    );
  }
}

if (!only || only.includes('e')) await runExport();
if (!only || only.includes('i')) {
  if (args.embedded) log('\nScenario i (import) runs on PostgreSQL only: it creates its own database.');
  else await benchImports(serverUrl);
}
if (!only || only.includes('j')) await benchDuplicateFlagging(db);
log(`\nLoad average after: ${loadAverage()} (other work on the machine inflates every number).`);
await proxy?.stop();
await server.close();
await database.close();

async function runExport() {
  const researcher = await createResearcher(db);
  const headers = { authorization: `Bearer ${researcher.key}` };
  if (!(await exportExists(server.url, headers))) {
    log('\nTODO: GET /v1/incidents/export?format=csv does not answer 200 here; the export was not measured.');
    return;
  }
  if (args.explain) {
    const { lines } = exportQueries(db, researcher.actor);
    await explain(database, 'export lines', [lines]);
  }
  // The HTTP export first: the floor's own allocations would otherwise count as the server's baseline.
  // On PostgreSQL the export runs against `npm start` in a child process: its memory is the server's alone.
  const child = database.url ? await startServerProcess(database.url) : undefined;
  const result = await measureExport(child?.url ?? server.url, headers, child?.pid);
  await child?.stop();
  const floor = await measureExportFloor(database, researcher.actor);
  const rate = result.rows / result.seconds;
  const floorRate = floor.rows / floor.seconds;
  const peak = result.peakHwm ?? result.peakRss;
  log(`\nExport (researcher key, all live incidents, CSV; server ${child ? 'in a child process (npm start)' : 'in process'}):`);
  log(`| rows | MB | seconds | rows/s | SQL rows/s | ratio (time) | peak RSS | RSS before | targets |`);
  log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  log(
    `| ${result.rows} | ${(result.bytes / 1e6).toFixed(0)} | ${result.seconds.toFixed(1)} | ${rate.toFixed(0)} | ${floorRate.toFixed(0)} | ${(floorRate / rate).toFixed(2)} | ${mb(peak)} | ${mb(result.baselineRss)} | >= 50,000 rows/s: ${rate >= 50_000 ? 'met' : 'MISSED'}; peak RSS < 300 MB: ${peak < 300 * 1024 * 1024 ? 'met' : 'MISSED'} |`,
  );
  if (floor.rows !== result.rows) log(`(the SQL floor read ${floor.rows} rows, the export wrote ${result.rows})`);
}

function loadAverage() {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
}

async function startServer(appDb: Db) {
  const http = createApp({ db: appDb, config, logger: createLogger(config.LOG_LEVEL) }).listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: async () => {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

async function createResearcher(appDb: Db): Promise<{ key: string; actor: Actor }> {
  const organisation = await appDb.selectFrom('organisations').select('id').orderBy('name').executeTakeFirstOrThrow();
  const row = await insertApiKey(appDb, { organisationId: organisation.id, name: 'bench researcher', role: 'researcher' });
  return { key: row.key, actor: { kind: 'key', keyId: row.id, organisationId: organisation.id, role: 'researcher' } };
}

async function explain(bench: BenchDatabase, name: string, queries: ReadonlyArray<{ sql: string; parameters: readonly unknown[] }>) {
  for (const query of queries) {
    const plan = await bench.raw(`explain (analyze, buffers) ${query.sql}`, query.parameters);
    log(`\n-- ${name}\n${query.sql.replace(/\s+/g, ' ')}\n${plan.map((row) => row['QUERY PLAN']).join('\n')}\n`);
  }
}

async function printDatasetSummary(appDb: Db) {
  const { rows } = await sql<Record<string, number>>`select
      (select count(*) from incidents) as incidents, (select count(*) from incidents where visibility = 'published' and deleted_at is null) as published,
      (select count(*) from victims) as victims, (select count(*) from perpetrator_claims) as claims, (select count(*) from sources) as sources,
      (select count(*) from incidents where latitude is not null) as with_coordinates,
      pg_total_relation_size('incidents') as incidents_bytes, pg_database_size(current_database()) as database_bytes`.execute(appDb);
  const row = rows[0]!;
  log(
    `Dataset: ${Object.entries(row)
      .map(([key, value]) => `${key} ${key.endsWith('bytes') ? mb(value) : value.toLocaleString('en')}`)
      .join(', ')}`,
  );
}
