import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './api-process.ts';

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A primary and a streaming replica of it, each a PostgreSQL cluster of its own on a free
 * loopback port, for test/replicas.test.ts and `npm run reliability -- replica`. The replica is
 * made as a deployment would make it: `pg_basebackup -R` (it writes standby.signal and
 * primary_conninfo) with a replication slot, so the primary keeps the WAL a stopped replica will
 * need. initdb's own pg_hba.conf (trust, loopback) already admits replication connections, and
 * PostgreSQL 15's defaults (wal_level=replica, max_wal_senders=10, hot_standby=on) are what
 * streaming needs; the shared server on 5432 is never touched. The clusters run as the postgres
 * user (through runuser: we run as root), with fsync off: they are thrown away.
 */
export interface ReplicatedClusters {
  primary: Cluster;
  replica: Cluster & {
    /** Stops applying WAL (it still receives it): its lag then grows as the primary writes. */
    pauseReplay: () => Promise<void>;
    resumeReplay: () => Promise<void>;
    /** Ends recovery: the replica becomes a primary of its own (a failover), and diverges. */
    promote: () => Promise<void>;
  };
  /** Stops both and deletes their folders; safe to call twice, and after a failure half-way. */
  remove: () => Promise<void>;
}

export interface Cluster {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url: (database: string) => string;
  /** One statement, as the superuser (CREATE DATABASE, pg_wal_replay_pause()...). */
  query: (database: string, statement: string) => Promise<void>;
  stop: (mode?: 'fast' | 'immediate') => Promise<void>;
  start: () => Promise<void>;
}

/** Why replicated clusters cannot be made here, or undefined when they can. */
export function replicationUnavailable(): string | undefined {
  const missing = ['initdb', 'pg_ctl', 'pg_basebackup'].filter((binary) => !existsSync(path.join(BIN, binary)));
  if (missing.length) return `the PostgreSQL server binaries (${missing.join(', ')}) are not in ${BIN} (set PG_BIN)`;
  if (process.getuid?.() !== 0) return 'the clusters run as the postgres user through runuser, which needs root';
  return undefined;
}

const asPostgres = (binary: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', path.join(BIN, binary), ...args]);

/**
 * Creates the primary and a replica of it, both running. Databases created on the primary
 * afterwards reach the replica like any other write.
 */
export async function createReplicatedClusters(): Promise<ReplicatedClusters> {
  const root = await mkdtemp('/tmp/dateline-replicas-');
  const { stdout } = await run('id', ['-u', 'postgres']);
  const uid = Number(stdout.trim());
  await chown(root, uid, uid);
  const clusters: Cluster[] = [];
  const remove = async () => {
    await Promise.all(clusters.map((cluster) => cluster.stop('immediate').catch(() => {})));
    await rm(root, { recursive: true, force: true });
  };
  try {
    const primaryDir = path.join(root, 'primary');
    await asPostgres('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const primary = await cluster(primaryDir);
    clusters.push(primary);
    await primary.start();

    const replicaDir = path.join(root, 'replica');
    await asPostgres('pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres'],
      ...['-D', replicaDir, '-R', '-X', 'stream', '-c', 'fast', '-C', '-S', 'dateline_replica', '--no-sync'],
    ]);
    const replica = await cluster(replicaDir);
    clusters.push(replica);
    await replica.start();
    return {
      primary,
      replica: {
        ...replica,
        pauseReplay: () => replica.query('postgres', 'select pg_wal_replay_pause()'),
        resumeReplay: () => replica.query('postgres', 'select pg_wal_replay_resume()'),
        promote: async () => void (await asPostgres('pg_ctl', ['-D', replicaDir, '-w', 'promote'])),
      },
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}

async function cluster(dataDir: string): Promise<Cluster> {
  const port = await freePort();
  let running = false;
  return {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    query: (database, statement) => sql(`postgres://postgres@127.0.0.1:${port}/${database}`, statement),
    start: async () => {
      await asPostgres('pg_ctl', [
        ...['-D', dataDir, '-l', path.join(dataDir, 'server.log'), '-w'],
        ...['-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'],
      ]);
      running = true;
    },
    stop: async (mode = 'fast') => {
      if (!running) return;
      await asPostgres('pg_ctl', ['-D', dataDir, '-w', '-m', mode, 'stop']);
      running = false;
    },
  };
}

async function sql(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
