import { existsSync } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import type { Db } from '../db/create-db.ts';
import type { Logger } from '../logger.ts';
import { latestAppliedMigration } from './migration-level.ts';

/**
 * The embedded database belongs to one process (src/db/data-dir-lock.ts), so while the server
 * runs, only the server can dump it. It listens on a Unix socket beside DATA_DIR
 * (./data/pglite.backup.sock) for `npm run backup`: whoever can connect can already read
 * DATA_DIR's files, so the socket (mode 0600) gives nobody anything new, and unlike an HTTP route
 * no API key, however leaked, reaches a copy of the whole database. Beside, not inside: PGlite's
 * dump copies every file of the folder and cannot read a socket.
 */
export const liveBackupSocket = (dataDir: string) => `${path.resolve(dataDir)}.backup.sock`;

export interface EmbeddedDump {
  migration: string | null;
  /** PGlite's gzipped tarball of the data folder. */
  dump: Buffer;
}

/**
 * A consistent dump: it holds the embedded pool's only connection, so no transaction is half
 * done, and checkpoints first, so the tarball's files need no WAL replay. Requests wait meanwhile.
 */
export async function dumpEmbedded(db: Db, pglite: PGlite): Promise<EmbeddedDump> {
  return db.connection().execute(async (connection) => {
    const migration = await latestAppliedMigration(connection);
    await sql`checkpoint`.execute(connection);
    const dump = Buffer.from(await (await pglite.dumpDataDir('gzip')).arrayBuffer());
    return { migration, dump };
  });
}

/**
 * Serves dumps on the socket: a client connects, gets one JSON line ({migration, bytes} or
 * {error}) and the dump's bytes. A server that cannot listen (a path too long for a socket)
 * keeps running without live backups and says so.
 */
export async function serveLiveBackups(db: Db, pglite: PGlite, dataDir: string, logger: Logger): Promise<() => Promise<void>> {
  const socketPath = liveBackupSocket(dataDir);
  // This process holds the data folder's lock, so a socket file left here is a dead server's.
  await rm(socketPath, { force: true });
  const server = createServer((socket) => void answer(socket));
  const answer = async (socket: Socket) => {
    socket.on('error', () => {}); // a client that went away; nothing to clean up
    try {
      const { migration, dump } = await dumpEmbedded(db, pglite);
      socket.write(`${JSON.stringify({ migration, bytes: dump.length })}\n`);
      socket.end(dump);
      logger.info({ bytes: dump.length }, 'wrote a live backup of the embedded database');
    } catch (error) {
      logger.error({ err: error }, 'a live backup failed');
      socket.end(`${JSON.stringify({ error: error instanceof Error ? error.message : JSON.stringify(error) })}\n`);
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    await chmod(socketPath, 0o600);
  } catch (error) {
    logger.warn({ err: error, socketPath }, 'live backups are unavailable: `npm run backup` needs the server stopped');
    return async () => {};
  }
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Asks a running server for a dump. Resolves undefined when no server listens (no socket, or one
 * a dead server left): the caller then opens the data folder itself.
 */
export function requestLiveBackup(dataDir: string): Promise<EmbeddedDump | undefined> {
  const socketPath = liveBackupSocket(dataDir);
  if (!existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const chunks: Buffer[] = [];
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected && (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')) resolve(undefined);
      else reject(new Error(`The running server's backup socket failed: ${error.message}`, { cause: error }));
    });
    socket.once('end', () => {
      const all = Buffer.concat(chunks);
      const newline = all.indexOf(0x0a);
      const answer = newline < 0 ? undefined : (JSON.parse(all.subarray(0, newline).toString('utf8')) as Record<string, unknown>);
      const dump = all.subarray(newline + 1);
      if (typeof answer?.error === 'string') reject(new Error(`The running server could not make the backup: ${answer.error}`));
      else if (!answer || answer.bytes !== dump.length)
        reject(new Error('The running server closed the backup socket before sending the whole dump; nothing was written.'));
      else resolve({ migration: (answer.migration as string | null) ?? null, dump });
    });
  });
}
