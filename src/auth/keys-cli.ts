import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { createDb, type Db } from '../db/create-db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { inTransaction } from '../db/in-transaction.ts';
import { DomainError, NotFoundError, ValidationError } from '../errors.ts';
import { findOrganisationByName } from '../organisations/organisation.queries.ts';
import { findOrCreateOrganisation } from '../organisations/organisation.service.ts';
import { ROLES, systemActor, type Role } from './actor.ts';
import { listApiKeys } from './api-key.queries.ts';
import { createApiKeySchema, rotateApiKeySchema } from './api-key.schemas.ts';
import { createApiKey, revokeApiKey, rotateApiKey } from './api-key.service.ts';
import { SCOPES } from './scopes.ts';
import { DATA_KEY_COMMANDS, runDataKeyCommand } from '../crypto/data-key-cli.ts';

// rotate-data-key and rewrap: the data encryption keys (src/crypto/data-key-cli.ts).
if (DATA_KEY_COMMANDS.includes(process.argv[2] ?? '')) await runDataKeyCommand(process.argv[2]!, process.argv.slice(3));

/** Every write of this tool is audited as `system:keys-cli`. */
const cli = { actor: systemActor('keys-cli'), requestId: null };

const usage = `Manage API keys from the command line (works while the API is down; with the embedded
database the API must be stopped, since only one process may open it).

  npm run keys -- create --org "<organisation name>" --role <${ROLES.join('|')}> [--name "<label>"]
                         [--scopes <scope,scope...>] [--expires-at <date-time>]
      Creates the key (and the organisation if it does not exist) and prints the key once.
      Scopes limit the key to some routes (${SCOPES.join(', ')}); without, it has its role's full rights.
      --expires-at takes an ISO 8601 date-time with a time zone, e.g. 2027-06-30T00:00:00Z.
  npm run keys -- list [--org "<organisation name>"]
  npm run keys -- rotate <key id> [--grace-seconds <n>] [--expires-at <date-time>]
      Prints a new key with the same organisation, role, scopes and name; the old key keeps
      working for the grace period (default 86400, 24 h; at most 604800, 7 days), then stops.
  npm run keys -- revoke <key id>
  npm run keys -- rotate-data-key | rewrap --new-key-file <file>
      The data encryption keys (README, "Encryption at rest"; --help for each).
`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    org: { type: 'string' },
    role: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'string' },
    'expires-at': { type: 'string' },
    'grace-seconds': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
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

/** The options the API's schemas check, checked by the same schemas, so both refuse alike. */
function checked<T>(
  schema: {
    safeParse: (
      input: unknown,
    ) => { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  input: unknown,
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  fail(result.error.issues.map((issue) => `${String(issue.path[0] ?? 'input')}: ${issue.message}`).join('\n'));
}

const commands: Record<string, (db: Db) => Promise<void>> = {
  async create(db) {
    if (!values.org) fail('Missing --org.');
    if (!ROLES.includes(values.role as Role)) fail(`--role must be one of ${ROLES.join(', ')}.`);
    const role = values.role as Role;
    const org = values.org;
    const limits = checked(createApiKeySchema.pick({ scopes: true, expiresAt: true }), {
      scopes: values.scopes?.split(',').map((scope) => scope.trim()),
      expiresAt: values['expires-at'],
    });
    const { organisation, created } = await inTransaction(db, async (trx) => {
      const { organisation } = await findOrCreateOrganisation(trx, cli, org);
      const name = values.name ?? `${role} key (CLI)`;
      const created = await createApiKey(trx, cli, { organisationId: organisation.id, name, role, ...limits });
      return { organisation, created };
    });
    const scopes = created.scopes ? `, limited to ${created.scopes.join(', ')}` : '';
    const expiry = created.expiresAt ? `, expiring at ${created.expiresAt}` : '';
    console.log(
      `Created a new ${role} key for "${organisation.name}" (id ${created.id}${scopes}${expiry}). Store it now; it is not shown again:\n\n${created.key}\n`,
    );
  },
  async rotate(db) {
    const id = rest[0];
    if (!id || !/^[0-9a-f-]{36}$/i.test(id)) fail('Give the id of the key to rotate (see `npm run keys -- list`).');
    const grace = values['grace-seconds'];
    const options = checked(rotateApiKeySchema, {
      ...(grace === undefined ? {} : { gracePeriodSeconds: /^\d+$/.test(grace) ? Number(grace) : grace }),
      expiresAt: values['expires-at'],
    });
    const rotated = await rotateApiKey(db, cli, id, options).catch((error: unknown) =>
      error instanceof DomainError && !(error instanceof ValidationError) ? fail(error.message) : Promise.reject(error),
    );
    console.log(
      `Rotated key ${id}: it keeps working until ${rotated.graceEndsAt}, then stops.\n` +
        `The new key (id ${rotated.key.id}) replaces it. Store it now; it is not shown again:\n\n${rotated.key.key}\n`,
    );
  },
  async list(db) {
    const organisation = values.org ? await findOrganisationByName(db, values.org) : undefined;
    if (values.org && !organisation) fail(`No organisation named "${values.org}".`);
    const keys = await listApiKeys(db, organisation?.id);
    console.table(
      keys.map((key) => ({
        id: key.id,
        prefix: key.prefix,
        role: key.role,
        name: key.name,
        scopes: key.scopes?.join(',') ?? '(role)',
        expires: key.expires_at?.toISOString() ?? '',
        revoked: key.revoked_at?.toISOString() ?? '',
        'last used (to the minute)': key.last_used_at?.toISOString() ?? '',
      })),
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
