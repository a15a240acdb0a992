import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { createDb, type Db } from '../db/create-db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { keySourceOf } from '../crypto/key-encryption-key.ts';
import { startEncryption } from '../incidents/encryption-start.ts';
import { CommandError, describeError, importFromFile, summarise, type ImportCommand } from './import-command.ts';
import { IMPORT_FORMATS, type ImportFormatName } from './import-plan.ts';
import { IMPORT_VISIBILITIES, ON_DUPLICATE, type ImportVisibility, type OnDuplicate } from './import.schemas.ts';
import { ValidationError } from '../errors.ts';

const usage = `Import a file of incidents into an organisation: a CSV (native, cpj, mapped) or Dateline's
JSON export (json). The same checks and report as POST /v1/imports; with the embedded database
the API must be stopped, since only one process may open it.

  npm run import -- FILE --format <${IMPORT_FORMATS.join('|')}> --org "<organisation name>"
      [--mapping mapping.json]       the mapping of a --format mapped file (src/imports/README.md)
      [--dry-run]                    check every row and report; write nothing
      [--on-error abort|skip]        abort (default): any bad row imports nothing; skip: import the rest
      [--on-duplicate skip|create]   skip (default): leave out rows that are incidents already stored; create: create and flag them
      [--visibility draft|published|keep]
                                     draft (default): unverified drafts; published: publish them all;
                                     keep (json): each incident's verification status and visibility as in the file
      [--idempotency-key KEY]        the same key again returns the first import's report
      [--json]                       print the whole report as JSON
`;

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    format: { type: 'string' },
    org: { type: 'string' },
    mapping: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'on-error': { type: 'string', default: 'abort' },
    'on-duplicate': { type: 'string', default: 'skip' },
    visibility: { type: 'string', default: 'draft' },
    'idempotency-key': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [file, ...extra] = positionals;
if (!file || extra.length) fail('Give exactly one file.');
if (!IMPORT_FORMATS.includes(values.format as ImportFormatName)) fail(`--format must be one of ${IMPORT_FORMATS.join(', ')}.`);
if (!values.org) fail('Missing --org.');
if (!['abort', 'skip'].includes(values['on-error'])) fail('--on-error must be abort or skip.');
if (!ON_DUPLICATE.includes(values['on-duplicate'] as OnDuplicate)) fail(`--on-duplicate must be ${ON_DUPLICATE.join(' or ')}.`);
if (!IMPORT_VISIBILITIES.includes(values.visibility as ImportVisibility)) fail(`--visibility must be ${IMPORT_VISIBILITIES.join(', ')}.`);

const command: ImportCommand = {
  file,
  format: values.format as ImportFormatName,
  organisation: values.org,
  mappingFile: values.mapping,
  dryRun: values['dry-run'],
  onError: values['on-error'] as 'abort' | 'skip',
  onDuplicate: values['on-duplicate'] as OnDuplicate,
  visibility: values.visibility as ImportVisibility,
  idempotencyKey: values['idempotency-key'],
};

/** One line on a terminal, rewritten in place; a line per 10% when stderr is a log file. */
function progress(done: number, total: number) {
  const step = process.stderr.isTTY ? 100 : Math.max(1, Math.ceil(total / 10));
  if (done % step !== 0 && done !== total) return;
  const text = `Importing: ${done}/${total} rows (${Math.floor((done / total) * 100)}%)`;
  if (process.stderr.isTTY) process.stderr.write(`\r${text}${done === total ? '\n' : ''}`);
  else process.stderr.write(`${text}\n`);
}

/** A file that cannot be imported at all (wrong format, encoding, shape): one line, "The file cannot be imported: …". */
function oneLine(error: unknown): string | undefined {
  if (!(error instanceof ValidationError) || error.errors.length !== 1) return undefined;
  const [only] = error.errors;
  const where = only!.parameter ? `${only!.parameter}: ` : '';
  return `${error.message.replace(/\.$/, '')}: ${where}${only!.detail}`;
}

const config = loadConfig();
let db: Db | undefined;
try {
  db = (await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR })).db;
  await migrateToLatest(db);
  await startEncryption(db, keySourceOf(config));
  const started = performance.now();
  const outcome = await importFromFile(db, command, progress);
  const seconds = (performance.now() - started) / 1000;
  console.log(values.json ? JSON.stringify(outcome.report, null, 2) : summarise(outcome));
  if (outcome.kind === 'imported' && !values.json)
    console.error(`Took ${seconds.toFixed(1)} s (${Math.round(outcome.report.counts.created / seconds)} rows/s).`);
  if (outcome.kind === 'rejected') process.exitCode = 1;
} catch (error) {
  console.error(error instanceof CommandError ? error.message : (oneLine(error) ?? describeError(error)));
  process.exitCode = 1;
} finally {
  await db?.destroy();
}
