import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { createDb } from '../db/create-db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { EncryptionKeyError, keySourceOf, readKeyFile, resolveKeyEncryptionKey } from './key-encryption-key.ts';
import { openKeyring } from './keyring.ts';
import { rewrapDataKeys, rotateDataKey } from './rotate-data-key.ts';

/**
 * The data-key commands of `npm run keys` (src/auth/keys-cli.ts hands them over):
 * rotate-data-key and rewrap. README, "Encryption at rest".
 */
export const DATA_KEY_COMMANDS = ['rotate-data-key', 'rewrap'];

const usage = `Data encryption keys (README, "Encryption at rest"). The key-encryption key comes from
DATA_ENCRYPTION_KEY or DATA_ENCRYPTION_KEY_FILE, as for the server.

  npm run keys -- rotate-data-key [--wait-seconds <n>]
      Creates a new data key, re-encrypts every encrypted value under it in small batches while the
      API keeps running, then retires the old key. First it waits (default 15 s; 0 when no server runs)
      so running servers load the new key. Interrupted, run it again: it continues.
  npm run keys -- rewrap --new-key-file <file>
      Wraps the data keys under a new key-encryption key (base64 of 32 bytes in the file). Quick: nothing
      else is re-encrypted. Then stop the servers and start them with the new key.
`;

export async function runDataKeyCommand(command: string, args: string[]): Promise<never> {
  const { values } = parseArgs({
    args,
    options: { 'wait-seconds': { type: 'string' }, 'new-key-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const log = (message: string) => console.log(message);
  let config;
  let kek: Buffer;
  try {
    config = loadConfig();
    kek = resolveKeyEncryptionKey(keySourceOf(config)).key;
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof EncryptionKeyError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const waitSeconds = Number(values['wait-seconds'] ?? 15);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) fail('--wait-seconds takes a number of seconds, 0 or more.');
  if (command === 'rewrap' && !values['new-key-file']) fail('rewrap needs --new-key-file <file>.');

  const { db } = await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: 2 });
  try {
    await migrateToLatest(db);
    await openKeyring(db, kek); // refuses a wrong key before anything is changed
    if (command === 'rotate-data-key') {
      const { newKeyId, retired } = await rotateDataKey(db, kek, { waitMs: waitSeconds * 1000, log });
      log(`Done: values are sealed with data key ${newKeyId}${retired.length ? `; ${retired.join(', ')} retired` : ''}.`);
    } else {
      const newKek = readKeyFile(values['new-key-file']!, `The new key file ${values['new-key-file']}`);
      const count = await rewrapDataKeys(db, kek, newKek);
      log(`Re-wrapped ${count} keys. Start the servers with the new key (DATA_ENCRYPTION_KEY or DATA_ENCRYPTION_KEY_FILE) from now on.`);
    }
  } catch (error) {
    console.error(error instanceof EncryptionKeyError ? error.message : error);
    await db.destroy();
    process.exit(1);
  }
  await db.destroy();
  process.exit(0);
}

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(1);
}
