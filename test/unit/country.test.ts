import { describe, expect, it } from 'vitest';
import { countryCodeFor } from '../../src/imports/country-names.ts';
import { countryCodeSchema, countryName, isHistoricalCountry } from '../../src/incidents/country.ts';
import { HISTORICAL_COUNTRIES } from '../../src/incidents/historical-countries.ts';

/** Country codes, current and former: pure functions, no database. */
describe('country codes', () => {
  it('names current, Kosovo and former countries, and nothing else', () => {
    expect(countryName('TR')).toBe('Türkiye');
    expect(countryName('XK')).toBe('Kosovo');
    expect(countryName('YUCS')).toBe('Yugoslavia');
    expect(countryName('SUHH')).toBe('USSR');
    for (const retired of ['YU', 'SU', 'CS', 'DD', 'ZR', 'EU', 'UK', 'XA']) expect(countryName(retired), retired).toBeUndefined();
    expect(countryName('ABCD')).toBeUndefined();
    expect(countryName('yucs')).toBeUndefined();
  });

  it('keeps every ISO 3166-3 code four letters long, starting with the alpha-2 code it had', () => {
    for (const [code, { formerCode }] of Object.entries(HISTORICAL_COUNTRIES)) {
      expect(code).toMatch(/^[A-Z]{4}$/);
      expect(code.slice(0, 2)).toBe(formerCode);
      expect(isHistoricalCountry(code)).toBe(true);
      // The old two-letter form is refused, so it can never count under a successor state.
      expect(countryName(formerCode), formerCode).not.toBe(HISTORICAL_COUNTRIES[code]!.name);
    }
  });

  it('validates with a message that names the way out', () => {
    expect(countryCodeSchema.safeParse('YUCS').success).toBe(true);
    const unknown = countryCodeSchema.safeParse('ABCD');
    expect(unknown.success).toBe(false);
    expect(unknown.error!.issues[0]!.message).toContain('ISO 3166-3');
    expect(countryCodeSchema.safeParse('tr').error!.issues[0]!.message).toContain('upper-case');
  });

  it.each([
    ['Yugoslavia', 'YUCS'],
    ['Federal Republic of Yugoslavia', 'YUCS'],
    ['Serbia and Montenegro', 'CSXX'],
    ['Soviet Union', 'SUHH'],
    ['USSR', 'SUHH'],
    ['Czechoslovakia', 'CSHH'],
    ['Zaire', 'ZRCD'],
    ['East Germany', 'DDDE'],
    ['Kosovo', 'XK'],
    ['Bosnia', 'BA'],
    ['USA', 'US'],
    ['Burma', 'MM'],
    ['East Timor', 'TL'],
    ['Iraq', 'IQ'],
    ['yucs', 'YUCS'],
  ])('reads the country name %j as %s', (name, code) => {
    expect(countryCodeFor(name)).toBe(code);
  });
});
