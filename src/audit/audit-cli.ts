import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { resolveKeyEncryptionKey } from '../crypto/key-encryption-key.ts';
import { openKeyring } from '../crypto/keyring.ts';
import { createDb, type Db } from '../db/create-db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { verifyAuditChain } from './audit-verify.ts';

const usage = `Check the audit log's hash chain (works while the API is down; with the embedded database the
API must be stopped, since only one process may open it). Needs the data encryption key the API
uses (DATA_ENCRYPTION_KEY or its file): sealed parts of the records are hashed as plaintext.

  npm run audit -- verify [--head <id>:<hash>]
      Walks every audit record in order and names the first one that was changed, removed or
      reordered (exit 1), or prints the number of records and the head (exit 0). With --head, a
      head stored earlier (GET /v1/audit/head) must still be in the chain with that hash, which
      also catches records removed from the end.
`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { head: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
const [command] = positionals;

if (values.help || !command) {
  console.log(usage);
  process.exit(command || values.help ? 0 : 1);
}

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(1);
}

if (command !== 'verify') fail(`Unknown command "${command}".`);
const headMatch = values.head === undefined ? undefined : /^(\d+):([0-9a-f]{64})$/i.exec(values.head);
if (headMatch === null) fail('--head takes the id and hash of a head as <id>:<hash>, e.g. 1234:9f86d081884c7d65...');
const expectHead = headMatch ? { id: Number(headMatch[1]), hash: headMatch[2]!.toLowerCase() } : undefined;

const config = loadConfig();
let db: Db | undefined;
try {
  db = (await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR })).db;
  await migrateToLatest(db);
  // Sealed parts of the documents are opened to hash the plaintext the chain was written over.
  const { key } = resolveKeyEncryptionKey({
    key: config.DATA_ENCRYPTION_KEY,
    keyFile: config.DATA_ENCRYPTION_KEY_FILE,
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
  });
  await openKeyring(db, key);
  const result = await verifyAuditChain(db, { expectHead });
  if (result.intact) {
    const head = result.head ? `head: record ${result.head.id}, hash ${result.head.hash}, at ${result.head.occurredAt}` : 'no records yet';
    console.log(`The audit chain is intact: ${result.count} record(s) checked; ${head}.`);
  } else {
    const { problem } = result;
    console.error(
      `The audit chain is broken at record ${problem.id} (${problem.kind}), after ${result.count} intact record(s).\n` +
        `${problem.message}\n  found:    ${problem.found}\n  expected: ${problem.expected}`,
    );
    process.exitCode = 1;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await db?.destroy();
}
