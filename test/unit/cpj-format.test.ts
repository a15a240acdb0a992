import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planImport } from '../../src/imports/import-plan.ts';

/**
 * CPJ rows turned into incidents, without a database: how each of CPJ's own values maps
 * (src/imports/README.md). The whole-file tallies are checked over HTTP in test/cpj-sample.test.ts.
 */
const sample = readFileSync(new URL('../fixtures/imports/cpj-killed-sample.csv', import.meta.url), 'utf8');
const plan = planImport(sample, { format: 'cpj', fileName: 'cpj.csv' });
const [header] = sample.split('\n');
const byName = (name: string) => {
  const row = plan.valid.find(({ input }) => input.victims[0]?.name === name);
  if (!row) throw new Error(`no row for ${name}`);
  return row.input;
};

/** One CPJ row from cells by column name; every other cell empty. */
function row(cells: Record<string, string>) {
  const columns = header!.split(',');
  return `${header}\n${columns.map((column) => cells[column] ?? '').join(',')}\n`;
}
const base = { year: '2015', fullName: 'A Reporter', country: 'Syria', type: 'Journalist', status: 'Killed', typeOfDeath: 'Murder' };

describe('CPJ rows', () => {
  it('imports every row of the real sample', () => {
    expect(plan.rejected).toEqual([]);
    expect(plan.valid).toHaveLength(41);
  });

  it('keeps an unclassified death and a media worker without a motive as what CPJ says', () => {
    expect(byName('Andrei Aizderdzis')).toMatchObject({
      attackTypes: ['killing'],
      deathType: 'unclassified',
      motive: 'work_related_unconfirmed',
    });
    expect(byName('Maher')).toMatchObject({ deathType: 'unclassified', motive: null, victims: [{ role: 'media_worker' }] });
    expect(byName('Ali Mahmoud Othman')).toMatchObject({ deathType: 'unknown', motive: 'work_related_confirmed' });
    expect(byName('Robenson Laraque')).toMatchObject({ deathType: 'dangerous_assignment' });
  });

  it('keeps Yugoslavia, as place and as nationality', () => {
    expect(byName('Milan Pantic')).toMatchObject({
      location: { country: 'YUCS', city: 'Jagodina, Serbia' },
      victims: [{ nationality: 'YUCS' }],
    });
    expect(byName('Gabriel Gruener').location.country).toBe('YUCS');
  });

  it('reads impunity: complete impunity is "no conviction", not "no investigation"', () => {
    expect(byName('Milan Pantic').judicialOutcome).toBe('no_conviction');
    expect(byName('Anna Politkovskaya').judicialOutcome).toBe('partial_justice');
    expect(byName('Anastasiya Baburova').judicialOutcome).toBe('full_justice');
    expect(byName('Tihomir Tunukovic').judicialOutcome).toBeNull();
  });

  it('splits Israel and the Occupied Palestinian Territory by the place, keeping the CPJ label', () => {
    const gaza = byName('Ali Abu Afash');
    expect(gaza.location.country).toBe('PS');
    expect(gaza.description).toContain('CPJ country: Israel and the Occupied Palestinian Territory');
    const telAviv = planImport(row({ ...base, country: 'Israel and the Occupied Palestinian Territory', location: 'Tel Aviv' }), {
      format: 'cpj',
      fileName: 'x.csv',
    });
    expect(telAviv.valid[0]!.input.location.country).toBe('IL');
    const unnamedPlace = planImport(row({ ...base, country: 'Israel and the Occupied Palestinian Territory' }), {
      format: 'cpj',
      fileName: 'x.csv',
    });
    expect(unnamedPlace.valid[0]!.input.location.country).toBe('PS');
  });

  it.each([
    ['N/A gender, locality and employment', { gender: 'N/A', localOrForeign: 'N/A', employedAs: 'N/A' }],
    ['Unknown gender and sources of fire', { gender: 'Unknown', sourcesOfFire: 'Unknown' }],
    ['an unnamed victim', { fullName: '[full name unavailable]' }],
    ['a former country', { country: 'USSR', year: '1991' }],
  ])('accepts %s', (_name, cells) => {
    const result = planImport(row({ ...base, ...cells }), { format: 'cpj', fileName: 'x.csv' });
    expect(result.rejected).toEqual([]);
  });

  it.each([
    ['a missing year', { year: '' }, 'year'],
    ['a missing name', { fullName: '' }, 'fullName'],
    ['a number in the gender column', { gender: '37' }, 'gender'],
    ['a type of death CPJ does not use', { typeOfDeath: 'Accident' }, 'typeOfDeath'],
    ['an unknown country', { country: 'Atlantis' }, 'country'],
  ])('rejects %s, naming the column', (_name, cells, column) => {
    const result = planImport(row({ ...base, ...cells }), { format: 'cpj', fileName: 'x.csv' });
    expect(result.valid).toEqual([]);
    expect(result.rejected[0]!.errors.map((error) => error.column)).toContain(column);
  });
});
