import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './api-process.ts';

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface ThrowawayCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  serverUrl: string;
  /** 'fast' disconnects clients with 57P01; 'immediate' is a crash (recovery from the WAL on start). */
  stop: (mode: 'fast' | 'immediate') => Promise<void>;
  start: () => Promise<void>;
  remove: () => Promise<void>;
}

/**
 * A PostgreSQL cluster of its own, for the scenario that restarts the database: the shared one
 * on 5432 is never stopped. initdb and pg_ctl run as the postgres user (we run as root).
 */
export async function createThrowawayCluster(): Promise<ThrowawayCluster> {
  const dataDir = await mkdtemp('/tmp/dateline-rel-pg-');
  const { stdout } = await run('id', ['-u', 'postgres']);
  const uid = Number(stdout.trim());
  await chown(dataDir, uid, uid);
  const port = await freePort();
  const asPostgres = (binary: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', path.join(BIN, binary), ...args]);
  await asPostgres('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  let running = false;
  const cluster: ThrowawayCluster = {
    serverUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => {
      await asPostgres('pg_ctl', [
        '-D',
        dataDir,
        '-l',
        path.join(dataDir, 'server.log'),
        '-w',
        '-o',
        `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`,
        'start',
      ]);
      running = true;
    },
    stop: async (mode) => {
      await asPostgres('pg_ctl', ['-D', dataDir, '-w', '-m', mode, 'stop']);
      running = false;
    },
    remove: async () => {
      if (running) await cluster.stop('immediate').catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
