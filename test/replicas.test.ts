import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReplicatedClusters,
  replicationUnavailable,
  type ReplicatedClusters,
} from '../scripts/reliability/support/replicated-cluster.ts';
import { highestVersionIn } from '../src/auth/read-routing.ts';
import { loadConfig } from '../src/config.ts';
import { createDb } from '../src/db/create-db.ts';
import { getDataVersion } from '../src/db/data-version.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { parseLsn, PrimaryPositions } from '../src/db/replica-lag.ts';
import type { ReplicaSet } from '../src/db/replicas.ts';
import { startEncryption } from '../src/incidents/encryption-start.ts';
import { createKey, createOrganisation, incidentBody, serviceWriter, type ServiceWriter } from './support/factories.ts';
import { request, serveApp, type TestApp } from './support/test-app.ts';

/**
 * Read replicas (README, "Read replicas") against a real streaming replica: the test makes a
 * primary cluster and a replica of it with pg_basebackup -R (scripts/reliability/support/
 * replicated-cluster.ts) and removes both at the end, failed or not.
 *
 * Which server answered is told by the data itself: with the replica's replay paused, the
 * replica holds an older data version than the primary, so every answer's version says where it
 * came from. PostgreSQL only; skipped (with the reason) where the server binaries or root are missing.
 */

describe('configuration', () => {
  it('refuses replicas without PostgreSQL, bad URLs, and the primary listed as a replica', () => {
    expect(() => loadConfig({ DATABASE_REPLICA_URLS: 'postgres://u@replica:5432/dateline' })).toThrow(
      /DATABASE_REPLICA_URLS=.*read replicas need PostgreSQL: set DATABASE_URL/,
    );
    const primary = 'postgres://u@primary:5432/dateline';
    expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: `postgres://u@r1/dateline,,mysql://r2` })).toThrow(
      /entry 2 of 3 is empty[\s\S]*entry 3 of 3 is not a postgres:\/\/ connection string/,
    );
    expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: primary })).toThrow(/names DATABASE_URL itself/);
    expect(() => loadConfig({ DATABASE_URL: primary, REPLICA_MAX_LAG_MS: '50' })).toThrow(/REPLICA_MAX_LAG_MS/);
    const config = loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: ' postgres://u@r1/dateline , postgresql://u@r2/dateline' });
    expect(config.DATABASE_REPLICA_URLS).toEqual(['postgres://u@r1/dateline', 'postgresql://u@r2/dateline']);
    expect(config.REPLICA_MAX_LAG_MS).toBe(2_000);
  });

  it('reads lag from WAL positions, and the data version from ETags', () => {
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n);
    const positions = new PrimaryPositions(10_000);
    positions.add({ at: 1_000, lsn: 100n });
    positions.add({ at: 1_250, lsn: 200n });
    positions.add({ at: 1_500, lsn: 200n });
    expect(positions.lagMs(200n, 1_600)).toBe(0); // idle primary, caught-up replica: no lag, however old the last write
    expect(positions.lagMs(150n, 1_600)).toBe(350); // the primary passed 150 at 1,250
    expect(highestVersionIn('W/"41-abc", W/"43-def"')).toBe(43);
    expect(highestVersionIn('"7-x"')).toBe(7);
    expect(highestVersionIn('*')).toBeUndefined();
  });
});

const skipped = process.env.DATABASE_URL ? replicationUnavailable() : 'replicas are PostgreSQL only; this run uses the embedded database';
if (skipped) console.warn(`test/replicas.test.ts: the streaming-replica tests are skipped: ${skipped}.`);

interface ReplicaApp extends TestApp {
  replicas: ReplicaSet;
}

describe.skipIf(skipped)('with a streaming replica', () => {
  let clusters: ReplicatedClusters | undefined;
  /** Replicas are never too far behind for this one (REPLICA_MAX_LAG_MS one hour). */
  let relaxed: ReplicaApp;
  /** A replica 300 ms behind is skipped. */
  let strict: ReplicaApp;
  /** Checks the replica's position only when told (checkNow): what it learns of a stopped replica, it learns from a request. */
  let unwatched: ReplicaApp;
  const apps: ReplicaApp[] = [];
  let writer: ServiceWriter;
  let organisationId: string;

  beforeAll(async () => {
    clusters = await createReplicatedClusters();
    await clusters.primary.query('postgres', 'create database dateline');
    const { db } = await createDb({ databaseUrl: clusters.primary.url('dateline') });
    try {
      await migrateToLatest(db);
      await startEncryption(db, { key: process.env.DATA_ENCRYPTION_KEY });
    } finally {
      await db.destroy();
    }
    relaxed = await startReplicaApp(clusters, 3_600_000);
    strict = await startReplicaApp(clusters, 300);
    unwatched = await startReplicaApp(clusters, 3_600_000, 600_000);
    apps.push(relaxed, strict, unwatched);
    organisationId = (await createOrganisation(relaxed.db)).id;
    writer = await serviceWriter(relaxed.db, organisationId);
    await writer.create(incidentBody({ title: 'Published before the replica was paused' }), { publish: true });
    await caughtUp(relaxed);
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    await clusters?.remove();
  });

  /** Pauses the replica's replay, writes on the primary; returns the versions each now holds. */
  async function diverge(title: string) {
    await clusters!.replica.pauseReplay();
    const replicaVersion = (await primaryVersion()) as number;
    await writer.create(incidentBody({ title }), { publish: true });
    const newer = await primaryVersion();
    expect(newer).toBeGreaterThan(replicaVersion);
    await relaxed.replicas.checkNow();
    return { replicaVersion, primaryVersion: newer };
  }

  async function resume() {
    await clusters!.replica.resumeReplay();
    await caughtUp(relaxed);
  }

  const primaryVersion = async () => (await getDataVersion(relaxed.db)).dataVersion;

  it('serves anonymous and researchers reads, statistics and exports from the replica; editors read the primary', async () => {
    const { replicaVersion, primaryVersion: newer } = await diverge('Written while the replica was paused');
    const researcher = await createKey(relaxed.db, organisationId, 'researcher');
    const editor = await createKey(relaxed.db, organisationId, 'editor');
    const otherEditor = await createKey(relaxed.db, organisationId, 'editor');

    const list = await request(relaxed, 'GET', '/v1/incidents');
    expect(list.status).toBe(200);
    expect(list.body.meta.dataVersion).toBe(replicaVersion);
    expect(list.text).not.toContain('Written while the replica was paused');
    expect((await request(relaxed, 'GET', '/v1/incidents', { key: researcher })).body.meta.dataVersion).toBe(replicaVersion);
    expect((await request(relaxed, 'GET', '/v1/stats')).body.meta.dataVersion).toBe(replicaVersion);
    const feed = await request(relaxed, 'GET', '/v1/incidents/feed.atom');
    expect(feed.headers.get('x-data-version')).toBe(String(replicaVersion));
    const page = await request(relaxed, 'GET', '/explore');
    expect(highestVersionIn(page.headers.get('etag') ?? undefined)).toBe(replicaVersion);
    // Statistics and exports of any role: an editor's too.
    expect((await request(relaxed, 'GET', '/v1/stats', { key: otherEditor })).body.meta.dataVersion).toBe(replicaVersion);
    const exported = await request(relaxed, 'GET', '/v1/incidents/export?format=json', { key: otherEditor });
    expect(exported.headers.get('x-data-version')).toBe(String(replicaVersion));

    const editorList = await request(relaxed, 'GET', '/v1/incidents', { key: editor });
    expect(editorList.body.meta.dataVersion).toBe(newer);
    expect(editorList.text).toContain('Written while the replica was paused');
    await resume();
  });

  it("sends a key's reads to the primary after its write, until a replica has replayed it", async () => {
    const { replicaVersion } = await diverge('Paused again');
    const editor = await createKey(relaxed.db, organisationId, 'editor');
    const created = await request(relaxed, 'POST', '/v1/incidents', {
      key: editor,
      body: incidentBody({ title: 'Written by the key itself' }),
    });
    expect(created.status).toBe(201);
    const afterWrite = await primaryVersion();
    const stats = await request(relaxed, 'GET', '/v1/stats', { key: editor });
    expect(stats.body.meta.dataVersion).toBe(afterWrite); // its own write is there: the primary answered
    const bystander = await createKey(relaxed.db, organisationId, 'editor');
    expect((await request(relaxed, 'GET', '/v1/stats', { key: bystander })).body.meta.dataVersion).toBe(replicaVersion);

    // Once the replica has replayed the write, the key is served by it again: pause, write
    // behind its back (not through the API), and the key's statistics show the replica's version.
    await resume();
    await until(async () => {
      await relaxed.replicas.checkNow();
      return (await request(relaxed, 'GET', '/v1/stats', { key: bystander })).body.meta.dataVersion === (await primaryVersion());
    });
    const { replicaVersion: caught } = await diverge('Written behind the key');
    await until(async () => (await request(relaxed, 'GET', '/v1/stats', { key: editor })).body.meta.dataVersion === caught);
    await resume();
  });

  it('never answers with a data version older than the client has seen', async () => {
    const { replicaVersion, primaryVersion: newer } = await diverge('A version the replica does not have');
    // A client (or the nginx cache) revalidating an ETag of the newer version: not from the replica.
    const etag = `W/"${newer}-anything"`;
    const revalidated = await request(relaxed, 'GET', '/v1/incidents?limit=3', { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(200);
    expect(revalidated.body.meta.dataVersion).toBe(newer);
    // That ETag moved no one else's reads: a forged one cannot pin the process to the primary.
    expect((await request(relaxed, 'GET', '/v1/incidents')).body.meta.dataVersion).toBe(replicaVersion);
    // Once the primary has answered in a replica's stead (answerIfUnchanged tells the replica set,
    // as here), this process answers nobody with less: its high-water mark.
    relaxed.replicas.served(relaxed.replicas.fallbackChoice('no replica was usable'), newer, relaxed.db);
    expect((await request(relaxed, 'GET', '/v1/incidents')).body.meta.dataVersion).toBe(newer);

    // Many readers while the replica lags and catches up: each one's versions only go up.
    const seen: number[][] = [[], [], []];
    const resumed = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await writer.create(incidentBody({ title: 'Written while readers read' }), { publish: true });
      await clusters!.replica.resumeReplay();
    })();
    const started = Date.now();
    await Promise.all(
      seen.map(async (versions, client) => {
        let etag: string | undefined;
        while (Date.now() - started < 1_500) {
          const app = client === 2 ? strict : relaxed;
          const response = await request(app, 'GET', '/v1/incidents?limit=1', { headers: etag ? { 'if-none-match': etag } : {} });
          if (response.status === 200) {
            versions.push(response.body.meta.dataVersion);
            if (client === 1) etag = response.headers.get('etag') ?? undefined;
          }
        }
      }),
    );
    await resumed;
    for (const versions of seen) {
      expect(versions.length).toBeGreaterThan(0);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
    await caughtUp(relaxed);
  });

  it('skips a replica lagging beyond REPLICA_MAX_LAG_MS, and uses it again once it has caught up', async () => {
    const { replicaVersion, primaryVersion: newer } = await diverge('Lagging');
    // Within 300 ms of the write the lag is not yet past the limit; then it is (measured from WAL positions).
    await until(async () => {
      await strict.replicas.checkNow();
      return /behind the primary \(REPLICA_MAX_LAG_MS=300\)/.test(strict.replicas.status()[0]!.skipped ?? '');
    });
    const anonymous = await request(strict, 'GET', '/v1/incidents');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.meta.dataVersion).toBe(newer);
    expect(anonymous.body.meta.dataVersion).not.toBe(replicaVersion);
    await clusters!.replica.resumeReplay();
    await until(async () => {
      await strict.replicas.checkNow();
      return strict.replicas.status()[0]!.skipped === undefined;
    });
    expect((await request(strict, 'GET', '/v1/incidents')).body.meta.dataVersion).toBeGreaterThanOrEqual(newer);
    await caughtUp(relaxed);
  });

  it('falls back to the primary while the replica is stopped, without an error', async () => {
    await unwatched.replicas.checkNow();
    expect(unwatched.replicas.status()[0]!.skipped).toBeUndefined();
    await clusters!.replica.stop('fast');
    for (const app of [unwatched, relaxed]) {
      const statuses: number[] = [];
      const versions: number[] = [];
      for (const started = Date.now(); Date.now() - started < 500;) {
        const response = await request(app, 'GET', '/v1/incidents?limit=1');
        statuses.push(response.status);
        if (response.status === 200) versions.push(response.body.meta.dataVersion);
      }
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(versions.at(-1)).toBe(await primaryVersion());
    }
    // No check ran: the first request that could not connect to the replica found it down, and got the primary.
    expect(unwatched.replicas.status()[0]!.skipped).toMatch(/^connection failed: /);
    await relaxed.replicas.checkNow();
    expect(relaxed.replicas.status()[0]!.skipped).toMatch(/^unreachable: /);

    await clusters!.replica.start();
    await caughtUp(relaxed);
    const { replicaVersion } = await diverge('After the restart');
    expect((await request(relaxed, 'GET', '/v1/incidents')).body.meta.dataVersion).toBe(replicaVersion); // the replica serves again
    await resume();
  });

  it('stops reading from a replica that was promoted (it no longer follows the primary)', async () => {
    await clusters!.replica.promote();
    await until(async () => {
      await relaxed.replicas.checkNow();
      return relaxed.replicas.status()[0]!.skipped === 'not in recovery: promoted, or not a replica';
    });
    await writer.create(incidentBody({ title: 'Only on the primary now' }), { publish: true });
    const list = await request(relaxed, 'GET', '/v1/incidents');
    expect(list.body.meta.dataVersion).toBe(await primaryVersion());
    expect(list.text).toContain('Only on the primary now');
  });
});

async function startReplicaApp(clusters: ReplicatedClusters, maxLagMs: number, checkEveryMs?: number): Promise<ReplicaApp> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    STATISTICS_IN_MEMORY: 'false',
    RATE_LIMIT_ANONYMOUS: '100000',
    RATE_LIMIT_AUTHENTICATED: '100000',
  });
  const { db, replicas } = await createDb({
    databaseUrl: clusters.primary.url('dateline'),
    replicaUrls: [clusters.replica.url('dateline')],
    replicaMaxLagMs: maxLagMs,
    replicaCheckEveryMs: checkEveryMs,
    poolMax: 4,
    onPoolError: () => {},
  });
  await startEncryption(db, { key: process.env.DATA_ENCRYPTION_KEY });
  const served = await serveApp(db, config);
  return {
    ...served,
    mode: 'postgres',
    replicas: replicas!,
    close: async () => {
      await served.close();
      await db.destroy();
    },
  };
}

/** Waits until the replica serves reads at the primary's data version. */
async function caughtUp(app: ReplicaApp) {
  const version = (await getDataVersion(app.db)).dataVersion;
  await until(async () => {
    await app.replicas.checkNow();
    const [status] = app.replicas.status();
    return status!.skipped === undefined && status!.dataVersion === version;
  });
}

async function until(condition: () => Promise<boolean>, timeoutMs = 15_000) {
  for (const started = Date.now(); !(await condition());) {
    if (Date.now() - started > timeoutMs) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
