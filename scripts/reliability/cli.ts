import { parseArgs } from 'node:util';
import { concurrentEdits } from './concurrent-edits.ts';
import { killMidImport } from './kill-mid-import.ts';
import { killMidWrite } from './kill-mid-write.ts';
import { mixedLoad } from './mixed-load.ts';
import { postgresRestart } from './postgres-restart.ts';
import { rateLimitTwoProcesses } from './rate-limit-two-processes.ts';
import { replica } from './replica.ts';
import { sigterm } from './sigterm.ts';
import { webhookScenarios } from './webhooks.ts';
import { killAllStartedApis } from './support/api-process.ts';
import { loadAverage, printReport, Report } from './support/report.ts';
import type { Scenario } from './support/scenario.ts';

/**
 * npm run reliability -- <scenario...|quick|all> [--duration S] [--embedded]
 * npm run reliability -- --list
 * Each scenario starts the real API on loopback with its own database, bounds its own run time,
 * prints its figures as a Markdown table (stdout; progress goes to stderr) and fails (exit 1)
 * when one of its checks does. RELIABILITY.md holds the latest figures.
 */
const scenarios: Scenario[] = [
  mixedLoad,
  rateLimitTwoProcesses,
  postgresRestart,
  killMidImport,
  killMidWrite,
  sigterm,
  concurrentEdits,
  ...webhookScenarios,
  replica,
];

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string' },
    embedded: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
  },
});

if (args.list || !positionals.length) {
  for (const scenario of scenarios) {
    const tags = [scenario.quick ? 'quick' : '', scenario.embedded ? '--embedded' : ''].filter(Boolean).join(', ');
    console.log(
      `${scenario.id.padEnd(26)} ${(scenario.defaultSeconds ? `${scenario.defaultSeconds} s` : '-').padStart(5)}  ${scenario.summary}${tags ? ` [${tags}]` : ''}`,
    );
  }
  if (!args.list) console.log('\nnpm run reliability -- <scenario...|quick|all> [--duration S] [--embedded]');
  process.exit(args.list ? 0 : 2);
}

const chosen = positionals.flatMap((name) => {
  if (name === 'all') return scenarios;
  if (name === 'quick') return scenarios.filter((scenario) => scenario.quick);
  if (name === 'webhooks-*') return scenarios.filter((scenario) => scenario.id.startsWith('webhooks-'));
  const scenario = scenarios.find((candidate) => candidate.id === name);
  if (!scenario) {
    console.error(`Unknown scenario "${name}"; npm run reliability -- --list shows them.`);
    process.exit(2);
  }
  return [scenario];
});
const duration = args.duration === undefined ? undefined : Number(args.duration);
if (duration !== undefined && !(duration > 0)) {
  console.error('--duration takes a number of seconds');
  process.exit(2);
}

// Ctrl-C: no API process outlives the run. (An interrupted run may leave its reliability_* database behind.)
process.once('SIGINT', () => void killAllStartedApis().then(() => process.exit(130)));

const failed: string[] = [];
for (const scenario of chosen) {
  if (args.embedded && !scenario.embedded) {
    console.error(`${scenario.id} runs on PostgreSQL only; skipped with --embedded.`);
    continue;
  }
  const report = new Report();
  const seconds = duration ?? scenario.defaultSeconds;
  const started = new Date();
  const loadBefore = loadAverage();
  console.error(`--- ${scenario.id}`);
  try {
    await scenario.run({ seconds, embedded: args.embedded, report, log: (message) => console.error(`    ${message}`) });
  } catch (error) {
    report.check('scenario ran to the end', false, error instanceof Error ? error.message : String(error));
  } finally {
    await killAllStartedApis();
  }
  printReport(`${scenario.id}${args.embedded ? ' (embedded database)' : ''}`, report, { seconds, started, loadBefore });
  if (report.failures.length) failed.push(...report.failures.map((failure) => `${scenario.id}: ${failure}`));
}

if (failed.length) {
  console.error(`\nFAILED:\n${failed.map((failure) => `  ${failure}`).join('\n')}`);
  process.exit(1);
}
console.error('\nAll checks passed.');
