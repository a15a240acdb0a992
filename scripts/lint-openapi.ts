import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApiDocument } from '../src/openapi/openapi.document.ts';

/**
 * npm run lint:openapi: writes the OpenAPI document that /openapi.json serves (generated here,
 * in-process, from the zod schemas: no server or database needed) to a temporary file and lints
 * it with Redocly's recommended rules. Redocly passes a document with warnings; this fails on
 * any error or warning, and then prints them in Redocly's own format.
 */
const folder = mkdtempSync(path.join(tmpdir(), 'dateline-openapi-'));
const file = path.join(folder, 'openapi.json');
const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
const redocly = (format: string, stdio: 'pipe' | 'inherit') =>
  spawnSync(process.execPath, [cli, 'lint', '--extends', 'recommended', `--format=${format}`, '--max-problems', '1000', file], {
    env,
    stdio,
    encoding: 'utf8',
  });

try {
  writeFileSync(file, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  const result = redocly('json', 'pipe');
  const totals = (JSON.parse(result.stdout || '{}') as { totals?: { errors: number; warnings: number } }).totals;
  if (!totals) {
    console.error(`Redocly did not run:\n${result.stderr}`);
    process.exitCode = 1;
  } else if (totals.errors + totals.warnings > 0) {
    redocly('codeframe', 'inherit');
    console.error(`\nThe OpenAPI document has ${totals.errors} errors and ${totals.warnings} warnings (src/openapi/openapi.document.ts).`);
    process.exitCode = 1;
  } else {
    console.log("The OpenAPI document passes Redocly's recommended rules: no errors, no warnings.");
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
