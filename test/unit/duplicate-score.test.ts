import { describe, expect, it } from 'vitest';
import {
  dateLabel,
  daysApart,
  DUPLICATE_THRESHOLD,
  scoreDuplicate,
  type ScoredIncident,
  type ScoredVictim,
} from '../../src/duplicates/duplicate-score.ts';

/**
 * How alike two incidents are, without a database: the weights (name 0.5, date 0.25, country
 * 0.1, city 0.05, attack type 0.1), the name threshold, near and overlapping dates, and what a
 * reviewer may read about protected victims. The same scoring over HTTP: test/duplicates.test.ts.
 */
const OWN = 'own-organisation';
const OTHER = 'other-organisation';
const everyone = () => true;
const nobody = () => false;
const onlyOwn = (organisationId: string) => organisationId === OWN;

const day = (value: string) => ({ precision: 'day', start: value, end: value });
const victim = (name: string | null, extra: Partial<ScoredVictim> = {}): ScoredVictim => ({
  name,
  nameOriginal: null,
  aliases: [],
  protected: false,
  ...extra,
});

function incident(overrides: Partial<ScoredIncident> = {}): ScoredIncident {
  return {
    id: 'subject',
    organisationId: OWN,
    date: day('2024-03-15'),
    country: 'TR',
    city: 'Istanbul',
    attackTypes: ['physical_assault'],
    victims: [victim('Naji Jerf')],
    ...overrides,
  };
}
/** A record with nothing in common with incident(): no score unless a test gives it something. */
const unrelated = (overrides: Partial<ScoredIncident> = {}) =>
  incident({
    id: 'candidate',
    organisationId: OTHER,
    date: day('2001-01-01'),
    country: 'MX',
    city: 'Xalapa',
    attackTypes: ['threat_harassment'],
    victims: [],
    ...overrides,
  });

const kinds = (result: { reasons: Array<{ kind: string }> }) => result.reasons.map((reason) => reason.kind);

describe('scoreDuplicate', () => {
  it('scores 1 for the same record, with every reason, the strongest first', () => {
    const result = scoreDuplicate(incident(), incident({ id: 'candidate' }), everyone);
    expect(result.score).toBe(1);
    expect(kinds(result)).toEqual(['victim_name', 'date', 'country', 'attack_type', 'city']);
  });

  it('scores 0 with no reasons when nothing matches', () => {
    expect(scoreDuplicate(incident({ victims: [victim('Naji Jerf')] }), unrelated({ victims: [victim('Ana Díaz')] }), everyone)).toEqual({
      score: 0,
      reasons: [],
    });
  });

  it.each([
    ['the victim name', { victims: [victim('Naji Jerf')] }, 0.5],
    ['the date', { date: day('2024-03-15') }, 0.25],
    ['the country', { country: 'TR' }, 0.1],
    ['the attack type', { attackTypes: ['physical_assault'] }, 0.1],
    ['the city (in another country)', { city: 'Istanbul' }, 0.05],
  ] as const)('gives %s its weight, %d', (_name, shared, weight) => {
    expect(scoreDuplicate(incident(), unrelated(shared as Partial<ScoredIncident>), everyone).score).toBe(weight);
  });

  it('never reaches the flagging threshold without a matching name: unnamed victims, same place and day', () => {
    const result = scoreDuplicate(incident({ victims: [victim(null)] }), incident({ id: 'candidate', victims: [victim(null)] }), everyone);
    expect(result.score).toBe(0.5);
    expect(result.score).toBeLessThan(DUPLICATE_THRESHOLD);
    expect(kinds(result)).not.toContain('victim_name');
  });

  it('counts a name in another spelling, word order or script as the same name', () => {
    for (const other of [
      victim('Naji Jarf'),
      victim('Jerf, Naji'),
      victim(null, { nameOriginal: 'ناجي الجرف' }),
      victim('N. J.', { aliases: ['Naji al-Jerf'] }),
    ]) {
      const result = scoreDuplicate(incident(), unrelated({ victims: [other] }), everyone);
      expect(result.score, JSON.stringify(other)).toBe(0.5);
    }
    const reason = scoreDuplicate(incident(), unrelated({ victims: [victim('Naji Jarf')] }), everyone).reasons[0]!;
    expect(reason).toEqual({
      kind: 'victim_name',
      detail: 'same victim name once spelling and word order are set aside: "Naji Jerf" and "Naji Jarf"',
    });
  });

  it('gives a similar name part of the name weight and says how similar', () => {
    const result = scoreDuplicate(
      incident({ victims: [victim('Maria Espinosa')] }),
      unrelated({ victims: [victim('Maria Espinoza Ruiz')] }),
      everyone,
    );
    expect(result.score).toBeGreaterThan(0.25);
    expect(result.score).toBeLessThan(0.5);
    expect(result.reasons[0]!.detail).toMatch(/^similar victim names: "Maria Espinosa" and "Maria Espinoza Ruiz" \(similarity 0\.\d\d\)$/);
  });

  it('gives nothing for a name that shares only a first or a family name (below the name threshold)', () => {
    const result = scoreDuplicate(incident(), unrelated({ victims: [victim('Naji Hamdan')] }), everyone);
    expect(result).toEqual({ score: 0, reasons: [] });
  });

  it('takes the best pair of victims when both incidents have several', () => {
    const result = scoreDuplicate(
      incident({ victims: [victim('Ana Díaz'), victim('Naji Jerf')] }),
      unrelated({ victims: [victim('Luis Pérez'), victim('Naji Jarf')] }),
      everyone,
    );
    expect(result.score).toBe(0.5);
    expect(result.reasons[0]!.detail).toContain('"Naji Jerf" and "Naji Jarf"');
  });

  it('gives the full date weight to overlapping dates, naming each as precisely as it is known', () => {
    const year = { precision: 'year', start: '2024-01-01', end: '2024-12-31' };
    const result = scoreDuplicate(incident({ date: year }), unrelated({ date: day('2024-03-15') }), everyone);
    expect(result).toEqual({
      score: 0.25,
      reasons: [{ kind: 'date', detail: 'dates overlap within their precision: 2024 and 2024-03-15' }],
    });
  });

  it('gives half the date weight to dates up to a week apart, and nothing beyond', () => {
    expect(scoreDuplicate(incident(), unrelated({ date: day('2024-03-16') }), everyone)).toEqual({
      score: 0.13,
      reasons: [{ kind: 'date', detail: 'dates 1 day apart: 2024-03-15 and 2024-03-16' }],
    });
    expect(scoreDuplicate(incident(), unrelated({ date: day('2024-03-22') }), everyone).reasons).toEqual([
      { kind: 'date', detail: 'dates 7 days apart: 2024-03-15 and 2024-03-22' },
    ]);
    expect(scoreDuplicate(incident(), unrelated({ date: day('2024-03-23') }), everyone)).toEqual({ score: 0, reasons: [] });
  });

  it('compares cities as search does (case and accents aside), and needs both', () => {
    expect(scoreDuplicate(incident({ city: 'İstanbul' }), unrelated({ city: 'ISTANBUL' }), everyone).reasons).toEqual([
      { kind: 'city', detail: 'both in ISTANBUL' },
    ]);
    expect(scoreDuplicate(incident({ city: null }), unrelated({ city: null }), everyone).score).toBe(0);
  });

  it('names the country and every shared attack type', () => {
    const result = scoreDuplicate(
      incident({ attackTypes: ['killing', 'abduction', 'threat_harassment'] }),
      unrelated({ country: 'TR', attackTypes: ['abduction', 'killing'] }),
      everyone,
    );
    expect(result.reasons).toEqual([
      { kind: 'country', detail: 'both in TR' },
      { kind: 'attack_type', detail: 'both record killing, abduction' },
    ]);
    expect(result.score).toBe(0.2);
  });

  it('rounds the score to two decimals', () => {
    const result = scoreDuplicate(incident(), unrelated({ date: day('2024-03-17'), city: 'Istanbul' }), everyone);
    expect(result.score).toBe(0.18); // 0.125 + 0.05
  });
});

describe('scoreDuplicate and protected victims', () => {
  const secret = victim('Naji Jerf', { protected: true });

  it('leaves out the protected victims the viewer may not know: neither the score nor the reasons depend on them', () => {
    const subject = incident({ organisationId: OTHER, victims: [secret] });
    const withSecret = scoreDuplicate(subject, unrelated({ organisationId: OWN, victims: [victim('Naji Jarf')] }), onlyOwn);
    const without = scoreDuplicate(
      incident({ organisationId: OTHER, victims: [] }),
      unrelated({ organisationId: OWN, victims: [victim('Naji Jarf')] }),
      onlyOwn,
    );
    expect(withSecret).toEqual(without);
    expect(withSecret).toEqual({ score: 0, reasons: [] });
    expect(scoreDuplicate(incident({ victims: [secret] }), unrelated({ victims: [victim('Naji Jarf')] }), nobody).score).toBe(0);
  });

  it('compares the protected victims the viewer may know, but never names them', () => {
    const result = scoreDuplicate(incident({ victims: [secret] }), unrelated({ victims: [victim('Naji Jarf')] }), onlyOwn);
    expect(result).toEqual({ score: 0.5, reasons: [{ kind: 'victim_name', detail: "a protected victim's name matches" }] });
    expect(JSON.stringify(result)).not.toMatch(/Naji|Jerf|Jarf/);
  });

  it('says only "is similar" for a protected victim whose name is close, on either side', () => {
    const result = scoreDuplicate(
      incident({ victims: [victim('Maria Espinosa')] }),
      unrelated({ organisationId: OWN, victims: [victim('Maria Espinoza Ruiz', { protected: true })] }),
      everyone,
    );
    expect(result.reasons).toEqual([{ kind: 'victim_name', detail: "a protected victim's name is similar" }]);
    expect(JSON.stringify(result)).not.toMatch(/Espino/);
  });
});

describe('daysApart', () => {
  it.each([
    ['the same day', day('2024-03-15'), day('2024-03-15'), 0],
    ['a day inside a month', day('2024-03-15'), { start: '2024-03-01', end: '2024-03-31' }, 0],
    ['ranges that touch', { start: '2024-03-01', end: '2024-03-10' }, { start: '2024-03-10', end: '2024-03-20' }, 0],
    ['the next day', day('2024-03-15'), day('2024-03-16'), 1],
    ['the day before', day('2024-03-16'), day('2024-03-15'), 1],
    ['across a leap day', day('2024-02-28'), day('2024-03-01'), 2],
    [
      'from the end of a range to the start of the next',
      { start: '2023-12-01', end: '2023-12-31' },
      { start: '2024-01-31', end: '2024-02-29' },
      31,
    ],
  ])('%s: %j and %j are %i days apart', (_name, a, b, expected) => {
    expect(daysApart(a, b)).toBe(expected);
    expect(daysApart(b, a)).toBe(expected);
  });
});

describe('dateLabel', () => {
  it.each([
    [{ precision: 'year', start: '2015-01-01', end: '2015-12-31' }, '2015'],
    [{ precision: 'month', start: '2015-10-01', end: '2015-10-31' }, '2015-10'],
    [{ precision: 'day', start: '2015-10-15', end: '2015-10-15' }, '2015-10-15'],
    [{ precision: 'range', start: '2017-09-20', end: '2017-09-30' }, '2017-09-20..2017-09-30'],
  ])('shows %j as %s', (date, label) => {
    expect(dateLabel(date)).toBe(label);
  });
});
