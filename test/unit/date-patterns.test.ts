import { describe, expect, it } from 'vitest';
import { coarsen, compileDatePattern } from '../../src/imports/date-patterns.ts';

/** Date formats of mapped imports: pure functions, no database. */
describe('compileDatePattern', () => {
  it.each([
    ['DD/MM/YYYY', '27/12/2015', { precision: 'day', value: '2015-12-27' }],
    ['D MMMM YYYY', '3 October 2015', { precision: 'day', value: '2015-10-03' }],
    ['D MMM YYYY', '3 Oct. 2015', { precision: 'day', value: '2015-10-03' }],
    ['MMMM YYYY', 'october 2015', { precision: 'month', value: '2015-10' }],
    ['YYYY-MM', '2015-10', { precision: 'month', value: '2015-10' }],
    ['M/YYYY', '7/2017', { precision: 'month', value: '2017-07' }],
    ['YYYY', '2017', { precision: 'year', value: '2017' }],
    ['DD.MM.YYYY', ' 01.06.2020 ', { precision: 'day', value: '2020-06-01' }],
  ])('%s reads %j', (pattern, text, expected) => {
    expect(compileDatePattern(pattern).parse(text)).toEqual(expected);
  });

  it.each([
    ['DD/MM/YYYY', '30/02/2015', 'a day that does not exist'],
    ['DD/MM/YYYY', '27/13/2015', 'month 13'],
    ['MMMM YYYY', 'Octember 2015', 'no such month'],
    ['MMM YYYY', 'Ju 2015', 'a month name too short to be one month'],
    ['YYYY-MM', '2015-10-03', 'more than the format holds'],
    ['YYYY', '15', 'a two-digit year'],
  ])('%s refuses %j (%s)', (pattern, text) => {
    expect(compileDatePattern(pattern).parse(text)).toBeUndefined();
  });

  it.each([
    ['DD/MM', 'a date format needs YYYY'],
    ['YYYY-MM-MM', 'each of year, month and day may appear once'],
    ['DD YYYY', 'a format with a day needs a month'],
  ])('explains why %s cannot work', (pattern, message) => {
    expect(() => compileDatePattern(pattern)).toThrow(message);
  });

  it('cuts a date to the precision the file says it is known to', () => {
    expect(coarsen({ precision: 'day', value: '2020-06-01' }, 'month')).toEqual({ precision: 'month', value: '2020-06' });
    expect(coarsen({ precision: 'day', value: '2020-06-01' }, 'year')).toEqual({ precision: 'year', value: '2020' });
    expect(coarsen({ precision: 'year', value: '2020' }, 'month')).toEqual({ precision: 'year', value: '2020' });
  });
});
