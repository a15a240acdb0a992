import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';

/**
 * The key-encryption key (KEK): 32 bytes that wrap the data keys stored in the database
 * (data_keys). It never comes from the database, so a dump, a stolen disk or a leaked backup
 * without it holds only ciphertext. Sources, in order:
 * - DATA_ENCRYPTION_KEY: base64 of 32 bytes (`openssl rand -base64 32`);
 * - DATA_ENCRYPTION_KEY_FILE: a file holding the same;
 * - on the embedded database only (trying Dateline out, `npm install && npm start`): a key file
 *   next to the data folder, created on the first start. With DATABASE_URL and no key, nothing
 *   starts: a production database must never be encrypted with a key nobody chose to keep.
 */
export class EncryptionKeyError extends Error {
  override name = 'EncryptionKeyError';
}

export interface KeySourceOptions {
  key?: string | undefined;
  keyFile?: string | undefined;
  databaseUrl?: string | undefined;
  /** The embedded database's folder; the default key file goes next to it, never inside it. */
  dataDir?: string | undefined;
}

/** The key settings of a loaded configuration. */
export const keySourceOf = (config: Config): KeySourceOptions => ({
  key: config.DATA_ENCRYPTION_KEY,
  keyFile: config.DATA_ENCRYPTION_KEY_FILE,
  databaseUrl: config.DATABASE_URL,
  dataDir: config.DATA_DIR,
});

export interface KeyEncryptionKey {
  key: Buffer;
  /** Where it came from, for the log: never the key itself. */
  source: string;
  /** Set when this start created the embedded default key file. */
  created?: string;
}

const KEY_BYTES = 32;

/** The embedded default key file: next to the PGlite folder (./data/data-encryption.key), so a copy of that folder alone is not enough. */
export function defaultKeyFile(dataDir: string): string {
  return path.join(path.dirname(path.resolve(dataDir)), 'data-encryption.key');
}

export function parseKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/=_-]+$/.test(trimmed) || key.length !== KEY_BYTES) {
    throw new EncryptionKeyError(
      `${where} must be the base64 of exactly ${KEY_BYTES} random bytes (it decodes to ${key.length}); create one with: openssl rand -base64 32`,
    );
  }
  return key;
}

export function readKeyFile(file: string, where = `The key file ${file}`): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EncryptionKeyError(`${where} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`);
  }
  return parseKey(text, where);
}

export function resolveKeyEncryptionKey(options: KeySourceOptions): KeyEncryptionKey {
  if (options.key) return { key: parseKey(options.key, 'DATA_ENCRYPTION_KEY'), source: 'DATA_ENCRYPTION_KEY' };
  if (options.keyFile) {
    return { key: readKeyFile(options.keyFile, `DATA_ENCRYPTION_KEY_FILE (${options.keyFile})`), source: options.keyFile };
  }
  if (options.databaseUrl) {
    throw new EncryptionKeyError(
      'Dateline encrypts protected victims and internal notes, and needs the key to do so: set DATA_ENCRYPTION_KEY ' +
        '(base64 of 32 bytes, e.g. `openssl rand -base64 32`) or DATA_ENCRYPTION_KEY_FILE. Keep a copy somewhere safe: ' +
        'without it the encrypted data cannot be read (README, "Encryption at rest").',
    );
  }
  const file = defaultKeyFile(options.dataDir ?? './data/pglite');
  if (existsSync(file)) return { key: readKeyFile(file), source: file };
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(KEY_BYTES);
  // 'wx': never overwrite a key file another process just created.
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: file, created: file };
}
