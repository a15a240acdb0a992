import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { createDb, type Db } from '../db/create-db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { findOrganisationByName, insertOrganisation } from '../organisations/organisation.queries.ts';
import { ROLES, type Role } from './actor.ts';
import { appendAudit, type SystemContext } from '../audit/audit.queries.ts';
import { toOrganisation } from '../organisations/organisation.queries.ts';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from './api-key.queries.ts';
import { toApiKey } from './api-key.schemas.ts';

const cli: SystemContext = { actor: { kind: 'system', tool: 'keys-cli' }, requestId: null };

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
    const { organisation, created } = await db.transaction().execute(async (trx) => {
      let organisation = await findOrganisationByName(trx, org);
      if (!organisation) {
        organisation = await insertOrganisation(trx, org);
        await appendAudit(trx, cli, {
          action: 'organisation.create', entityType: 'organisation', entityId: organisation.id, organisationId: organisation.id,
          before: null, after: toOrganisation(organisation),
        });
      }
      const { key, ...row } = await insertApiKey(trx, { organisationId: organisation.id, name: values.name ?? `${role} key (CLI)`, role });
      await appendAudit(trx, cli, {
        action: 'api_key.create', entityType: 'api_key', entityId: row.id, organisationId: organisation.id, before: null, after: toApiKey(row),
      });
      return { organisation, created: { ...row, key } };
    });
    console.log(`Created a new ${role} key for "${organisation.name}" (id ${created.id}). Store it now; it is not shown again:\n\n${created.key}\n`);
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
    const revoked = await db.transaction().execute(async (trx) => {
      const before = await findApiKey(trx, id);
      const after = await revokeApiKey(trx, id);
      if (before && after) {
        await appendAudit(trx, cli, {
          action: 'api_key.revoke', entityType: 'api_key', entityId: id, organisationId: after.organisation_id,
          before: toApiKey(before), after: toApiKey(after),
        });
      }
      return after;
    });
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
