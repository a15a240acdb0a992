import { randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';

/**
 * A Dateline backup is one file: a first line `DATELINE-BACKUP {json}` saying what it holds, then
 * the database's own dump (a pg_dump custom-format archive, or PGlite's gzipped data-folder
 * tarball). The line lets `npm run restore` refuse the wrong kind of file before touching a
 * database; `tail -n +2 FILE` gives back the plain dump for pg_restore or PGlite by hand.
 */
const MAGIC = 'DATELINE-BACKUP ';
/** The header line is small; reading more than this without a newline means it is not one. */
const HEADER_LIMIT = 16 * 1024;

export const backupHeaderSchema = z.object({
  format: z.literal(1),
  mode: z.enum(['postgres', 'embedded']),
  createdAt: z.iso.datetime(),
  /** The last migration applied to the database when it was dumped (null: none). */
  migration: z.string().nullable(),
  /** postgres: the archive is `pg_dump --format=custom`; embedded: PGlite's `dumpDataDir('gzip')`. */
  payload: z.enum(['pg_dump-custom', 'pglite-datadir-gzip']),
  /** postgres: the server's and pg_dump's major versions (pg_restore must be at least as new as pg_dump). */
  serverMajor: z.number().int().optional(),
  pgDumpMajor: z.number().int().optional(),
  /** embedded: how the dump was taken: from the running server, or by opening the stopped data folder. */
  source: z.enum(['live-server', 'data-folder']).optional(),
});
export type BackupHeader = z.infer<typeof backupHeaderSchema>;

export const MODE_NAMES: Record<BackupHeader['mode'], string> = {
  postgres: 'PostgreSQL (DATABASE_URL)',
  embedded: 'embedded (PGlite, DATA_DIR)',
};

/**
 * Writes header + payload to a temporary file beside `file`, flushes it to disk, then renames it
 * into place: an interrupted backup never leaves a truncated file under the name the operator
 * asked for (nor replaces a good older one). `writePayload` writes the dump and ends the stream.
 * The file is readable by its owner only: it holds every key hash and every protected victim.
 */
export async function writeBackupFile(file: string, header: BackupHeader, writePayload: (out: Writable) => Promise<void>): Promise<number> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.partial`);
  const out = createWriteStream(temporary, { flags: 'wx', mode: 0o600 });
  try {
    out.write(`${MAGIC}${JSON.stringify(header)}\n`);
    // writePayload ends `out` (a pipeline does); the file is renamed only once it has succeeded.
    await writePayload(out);
    if (!out.writableFinished) throw new Error('The backup was not completely written.');
    const handle = await open(temporary, 'r');
    try {
      await handle.sync();
      const { size } = await handle.stat();
      await rename(temporary, file);
      return size;
    } finally {
      await handle.close();
    }
  } catch (error) {
    out.destroy();
    await rm(temporary, { force: true });
    // The dump tools' own errors pass through; file system errors say which file.
    if ((error as NodeJS.ErrnoException).code)
      throw new Error(`Cannot write the backup to ${file}: ${fileError(error)}.`, { cause: error });
    throw error;
  }
}

export interface OpenedBackup {
  header: BackupHeader;
  /** The dump itself, after the header line. */
  payload: () => Readable;
  payloadBytes: () => Promise<Buffer>;
}

/** Reads and checks the header; every refusal names the file and says what to do instead. */
export async function openBackupFile(file: string): Promise<OpenedBackup> {
  const head = await readHead(file);
  const newline = head.indexOf(0x0a);
  if (!head.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC)) || newline < 0) throw new Error(describeForeignFile(file, head));
  let header: BackupHeader;
  try {
    header = backupHeaderSchema.parse(JSON.parse(head.subarray(MAGIC.length, newline).toString('utf8')));
  } catch {
    throw new Error(`${file} starts like a Dateline backup, but its header line is damaged or of a format this version does not know.`);
  }
  const start = newline + 1;
  return {
    header,
    payload: () => createReadStream(file, { start }),
    payloadBytes: async () => {
      const handle = await open(file, 'r');
      try {
        const { size } = await handle.stat();
        const bytes = Buffer.alloc(size - start);
        await handle.read(bytes, 0, bytes.length, start);
        return bytes;
      } finally {
        await handle.close();
      }
    },
  };
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'there is no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of its path is not a folder',
  ENOSPC: 'the disk is full',
  EROFS: 'the file system is read-only',
};
const fileError = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return FILE_ERRORS[code] ?? (error instanceof Error ? error.message : String(error));
};

/** Checked before dumping, so a typo in FILE costs no dump. */
export async function assertWritableTarget(file: string): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  const problem = await stat(file).then(
    (found) => (found.isDirectory() ? 'it is a folder; name a file inside it' : undefined),
    () => undefined,
  );
  if (problem) throw new Error(`Cannot write the backup to ${file}: ${problem}.`);
  await access(folder, constants.W_OK).catch((error: unknown) => {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `the folder ${folder} does not exist` : fileError(error);
    throw new Error(`Cannot write the backup to ${file}: ${why}.`, { cause: error });
  });
}

async function readHead(file: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new Error(`Cannot read the backup ${file}: ${fileError(error)}.`, { cause: error });
  }
  try {
    const buffer = Buffer.alloc(HEADER_LIMIT);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_LIMIT, 0).catch((error: unknown) => {
      throw new Error(`Cannot read the backup ${file}: ${fileError(error)}.`, { cause: error });
    });
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function describeForeignFile(file: string, head: Buffer): string {
  const notOurs = `${file} is not a Dateline backup (a file written by \`npm run backup\` starts with "DATELINE-BACKUP").`;
  if (head.length === 0) return `${notOurs} It is empty.`;
  if (head.subarray(0, 5).toString('latin1') === 'PGDMP')
    return `${notOurs} It is a plain pg_dump archive: restore it with pg_restore into an empty database, then run \`npm run db:migrate\`.`;
  if (head[0] === 0x1f && head[1] === 0x8b)
    return `${notOurs} It is gzip-compressed: if it is a PGlite data-folder dump, load it with PGlite's loadDataDir by hand.`;
  return notOurs;
}
