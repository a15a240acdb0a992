import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { request, useTestApp } from './support/test-app.ts';

/**
 * CPJ's real export, 41 rows that hold every kind of value the whole 2,165-row file holds
 * (N/A and Unknown types of death, media workers without a motive, Yugoslavia, Israel and the
 * Occupied Palestinian Territory...). Every row must import, and GET /v1/stats must give back
 * exactly CPJ's own tallies, counted from the CSV by a reader that is not ours: Python's csv
 * module. The tables below are the documented mapping (src/imports/README.md), written out
 * here independently of the import code.
 */
const samplePath = fileURLToPath(new URL('./fixtures/imports/cpj-killed-sample.csv', import.meta.url));
const sample = readFileSync(samplePath, 'utf8');

const python = (() => {
  try {
    execFileSync('python3', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
if (!python)
  console.warn('cpj-sample.test.ts: python3 is not installed, so the tallies cannot be counted by an independent CSV reader; skipped.');

/** CPJ's tallies: for each column, value -> rows, as Python's csv module reads the file. */
function cpjTallies(columns: string[]): Record<string, Record<string, number>> {
  const script = `
import csv, json, sys, collections
rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8', newline='')))
print(json.dumps({c: collections.Counter(r[c] for r in rows) for c in sys.argv[2:]}))`;
  return JSON.parse(execFileSync('python3', ['-c', script, samplePath, ...columns], { encoding: 'utf8' }));
}

const CPJ_COUNTRIES: Record<string, string> = {
  Afghanistan: 'AF',
  Bosnia: 'BA',
  Brazil: 'BR',
  Guatemala: 'GT',
  Haiti: 'HT',
  Honduras: 'HN',
  India: 'IN',
  Iraq: 'IQ',
  'Israel and the Occupied Palestinian Territory': 'PS',
  Latvia: 'LV',
  Lebanon: 'LB',
  Mexico: 'MX',
  Pakistan: 'PK',
  Philippines: 'PH',
  Russia: 'RU',
  Slovakia: 'SK',
  Somalia: 'SO',
  Syria: 'SY',
  Turkey: 'TR',
  USA: 'US',
  Ukraine: 'UA',
  Yemen: 'YE',
  Yugoslavia: 'YUCS',
};
const DEATH_TYPES: Record<string, string> = {
  Murder: 'murder',
  Crossfire: 'crossfire',
  'Dangerous Assignment': 'dangerous_assignment',
  Unknown: 'unknown',
  'N/A': 'unclassified',
};
const MOTIVES: Record<string, string | null> = {
  Confirmed: 'work_related_confirmed',
  Unconfirmed: 'work_related_unconfirmed',
  'N/A': null,
};
const IMPUNITY: Record<string, string | null> = {
  '': null,
  'Complete Impunity': 'no_conviction',
  'Partial Impunity': 'partial_justice',
  'Full Justice': 'full_justice',
};
const GENDERS: Record<string, string | null> = { '': null, Male: 'male', Female: 'female' };
const ROLES: Record<string, string> = { Journalist: 'journalist', 'Media Worker': 'media_worker' };

const t = useTestApp();

const upload = (csv: string, query: string) =>
  request(t.app, 'POST', `/v1/imports?format=cpj&${query}`, {
    key: t.actors.editor,
    rawBody: csv,
    headers: { 'content-type': 'text/csv' },
  });

/** The imported incidents' statistics, as {value: count} for one dimension. */
async function grouped(dimension: string, count: 'incidents' | 'victims' = 'incidents') {
  const response = await request(t.app, 'GET', `/v1/stats?groupBy=${dimension}&organisation=${t.actors.ownOrganisation.id}`, {
    key: t.actors.editor,
  });
  expect(response.status, response.text).toBe(200);
  // Years without incidents are listed with 0 (a time series has no gaps); CPJ's file has no such rows.
  const groups = response.body.groups.filter((group: Record<string, number>) => group[count]! > 0);
  return Object.fromEntries(groups.map((group: Record<string, unknown>) => [String(group[dimension]), group[count]]));
}

/** CPJ's tally of a column, its labels turned into codes by `table` (absent from the table: the value itself). */
function expected(tally: Record<string, number>, table?: Record<string, string | null>) {
  const result: Record<string, number> = {};
  for (const [label, rows] of Object.entries(tally)) {
    const code = String(table ? table[label] : label);
    result[code] = (result[code] ?? 0) + rows;
  }
  return result;
}

describe.runIf(python)("CPJ's real export", () => {
  it('imports every well-formed row, and rejects only the broken ones', async () => {
    const lines = sample.trimEnd().split('\n');
    const shifted = lines[1]!.replace('BBC TV', 'BBC, TV'); // one more cell: the columns after it are shifted
    const nameless = lines[2]!.replace('Andrei Aizderdzis', '');
    const file = [...lines, shifted, nameless].join('\n');
    const dryRun = await upload(file, 'dryRun=true');
    expect(dryRun.status, dryRun.text).toBe(200);
    expect(dryRun.body.counts).toMatchObject({ rows: 43, valid: 41, rejected: 2 });
    expect(dryRun.body.rejected).toEqual([
      { line: 43, errors: [{ column: '(row)', reason: expect.stringContaining('43 cells but the header has 42') }] },
      { line: 44, errors: [{ column: 'fullName', reason: expect.stringContaining('the name is missing') }] },
    ]);

    const imported = await upload(sample, 'fileName=cpj-killed-sample.csv');
    expect(imported.status, imported.text).toBe(201);
    expect(imported.body.counts).toMatchObject({ rows: 41, valid: 41, rejected: 0, created: 41 });
  });

  it("reproduces CPJ's own tallies by country, year, gender, role, type of death, motive and impunity", async () => {
    const tallies = cpjTallies(['country', 'year', 'gender', 'type', 'typeOfDeath', 'motiveConfirmed', 'impunityMurder']);
    expect(await grouped('country')).toEqual(expected(tallies.country!, CPJ_COUNTRIES));
    expect(await grouped('year')).toEqual(expected(tallies.year!));
    expect(await grouped('gender', 'victims')).toEqual(expected(tallies.gender!, GENDERS));
    expect(await grouped('victimRole', 'victims')).toEqual(expected(tallies.type!, ROLES));
    expect(await grouped('deathType')).toEqual(expected(tallies.typeOfDeath!, DEATH_TYPES));
    expect(await grouped('motive')).toEqual(expected(tallies.motiveConfirmed!, MOTIVES));
    expect(await grouped('judicialOutcome')).toEqual(expected(tallies.impunityMurder!, IMPUNITY));

    const totals = await request(t.app, 'GET', `/v1/stats?organisation=${t.actors.ownOrganisation.id}`, { key: t.actors.editor });
    expect(totals.body.totals).toEqual({ incidents: 41, victims: 41, victimsKilled: 41 });
  });

  it('filters by type of death and by a country that no longer exists, and names it in words', async () => {
    const murders = await request(t.app, 'GET', `/v1/incidents?deathType=murder&organisation=${t.actors.ownOrganisation.id}&limit=200`, {
      key: t.actors.editor,
    });
    expect(murders.status, murders.text).toBe(200);
    expect(murders.body.data).toHaveLength(10);
    expect(murders.body.data.every((incident: { deathType: string }) => incident.deathType === 'murder')).toBe(true);

    const yugoslavia = await request(t.app, 'GET', `/v1/incidents?country=YUCS&organisation=${t.actors.ownOrganisation.id}`, {
      key: t.actors.editor,
    });
    expect(yugoslavia.body.data.map((incident: { victims: Array<{ name: string }> }) => incident.victims[0]!.name).sort()).toEqual([
      'Gabriel Gruener',
      'Milan Pantic',
      'Zhu Ying',
    ]);
    expect(yugoslavia.body.data[0].location).toMatchObject({ country: 'YUCS', countryName: 'Yugoslavia' });
    const pantic = yugoslavia.body.data.find((incident: { title: string }) => incident.title.startsWith('Milan Pantic'));
    expect(pantic.victims[0].nationality).toBe('YUCS');

    const byCountry = await request(t.app, 'GET', `/v1/stats?groupBy=country&country=YUCS,BA&organisation=${t.actors.ownOrganisation.id}`, {
      key: t.actors.editor,
    });
    expect(byCountry.body.groups).toEqual([
      expect.objectContaining({ country: 'BA', countryName: 'Bosnia & Herzegovina', incidents: 1 }),
      expect.objectContaining({ country: 'YUCS', countryName: 'Yugoslavia', incidents: 3 }),
    ]);
  });
});
