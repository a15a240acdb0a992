import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { createDb, type Db } from '../db/create-db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { inTransaction } from '../db/in-transaction.ts';
import { NotFoundError } from '../errors.ts';
import { findOrganisationByName } from '../organisations/organisation.queries.ts';
import { findOrCreateOrganisation } from '../organisations/organisation.service.ts';
import { ROLES, systemActor, type Role } from './actor.ts';
import { listApiKeys } from './api-key.queries.ts';
import { createApiKey, revokeApiKey } from './api-key.service.ts';

/** Every write of this tool is audited as `system:keys-cli`. */
const cli = { actor: systemActor('keys-cli'), requestId: null };

const usage = `Manage API keys from the command line (works while the API is down; with the embedded
database the API must be stopped, since only one process may open it).

  npm run keys -- create --org "<organisation name>" --role <${ROLES.join('|')}> [--name "<label>"]
      Creates the key (and the organisation if it does not exist) and prints the key once.
  npm run keys -- list [--org "<organisation name>"]
  npm run keys -- revoke <key id>
`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { org: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
const [command, ...rest] = positionals;

if (values.help || !command) {
  console.log(usage);
  process.exit(command || values.help ? 0 : 1);
}

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(1);
}

const commands: Record<string, (db: Db) => Promise<void>> = {
  async create(db) {
    if (!values.org) fail('Missing --org.');
    if (!ROLES.includes(values.role as Role)) fail(`--role must be one of ${ROLES.join(', ')}.`);
    const role = values.role as Role;
    const org = values.org;
    const { organisation, created } = await inTransaction(db, async (trx) => {
      const { organisation } = await findOrCreateOrganisation(trx, cli, org);
      const created = await createApiKey(trx, cli, { organisationId: organisation.id, name: values.name ?? `${role} key (CLI)`, role });
      return { organisation, created };
    });
    console.log(
      `Created a new ${role} key for "${organisation.name}" (id ${created.id}). Store it now; it is not shown again:\n\n${created.key}\n`,
    );
  },
  async list(db) {
    const organisation = values.org ? await findOrganisationByName(db, values.org) : undefined;
    if (values.org && !organisation) fail(`No organisation named "${values.org}".`);
    const keys = await listApiKeys(db, organisation?.id);
    console.table(
      keys.map((key) => ({ id: key.id, prefix: key.prefix, role: key.role, name: key.name, revoked: key.revoked_at?.toISOString() ?? '' })),
    );
  },
  async revoke(db) {
    const id = rest[0];
    if (!id || !/^[0-9a-f-]{36}$/i.test(id)) fail('Give the id of the key to revoke (see `npm run keys -- list`).');
    const revoked = await revokeApiKey(db, cli, id).then(
      (outcome) => outcome === 'revoked',
      (error: unknown) => (error instanceof NotFoundError ? false : Promise.reject(error)),
    );
    console.log(revoked ? `Revoked key ${id}.` : `No active key with id ${id}.`);
    if (!revoked) process.exitCode = 1;
  },
};

const run = commands[command] ?? fail(`Unknown command "${command}".`);
const config = loadConfig();
let db: Db | undefined;
try {
  db = (await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR })).db;
  await migrateToLatest(db);
  await run(db);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await db?.destroy();
}
