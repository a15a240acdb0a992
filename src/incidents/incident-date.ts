import { z } from 'zod';

/**
 * Incident dates are often known only to the month or year, or as "late September 2017".
 * The API takes the date as precisely as it is known and stores it as an inclusive
 * [start, end] day range plus the precision, so filters and statistics can use plain date
 * comparisons while nobody is forced to invent a day.
 */
const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'use YYYY-MM-DD')
  .refine(isRealDay, 'this day does not exist in the calendar')
  .refine((day) => day >= '1900-01-01', 'dates before 1900 are not accepted')
  .refine((day) => day <= tomorrow(), 'this date is in the future');

export const incidentDateInputSchema = z
  .discriminatedUnion('precision', [
    z.strictObject({ precision: z.literal('day'), value: isoDay }),
    z.strictObject({
      precision: z.literal('month'),
      value: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'use YYYY-MM')
        .refine((month) => `${month}-01` >= '1900-01-01' && `${month}-01` <= tomorrow(), 'month out of range'),
    }),
    z.strictObject({
      precision: z.literal('year'),
      value: z
        .string()
        .regex(/^\d{4}$/, 'use YYYY')
        .refine((year) => year >= '1900' && `${year}-01-01` <= tomorrow(), 'year out of range'),
    }),
    z
      .strictObject({ precision: z.literal('range'), from: isoDay, to: isoDay })
      .refine((range) => range.from <= range.to, { message: '"from" must not be after "to"', path: ['to'] }),
  ])
  .meta({
    id: 'IncidentDateInput',
    description:
      'As precise as known: a day ("2015-12-27"), a month ("2015-10"), a year ("2015"), or a range of days ({from, to}) such as late September 2017.',
  });

export type IncidentDateInput = z.infer<typeof incidentDateInputSchema>;

export const incidentDateSchema = z
  .object({
    precision: z.enum(['day', 'month', 'year', 'range']),
    start: z.string().describe('First day the incident may have happened on (inclusive).'),
    end: z.string().describe('Last day the incident may have happened on (inclusive).'),
  })
  .meta({ id: 'IncidentDate' });

export type IncidentDate = z.infer<typeof incidentDateSchema>;

export interface StoredDate {
  date_start: string;
  date_end: string;
  date_precision: IncidentDate['precision'];
}

export function toStoredDate(input: IncidentDateInput): StoredDate {
  switch (input.precision) {
    case 'day':
      return { date_start: input.value, date_end: input.value, date_precision: 'day' };
    case 'month':
      return { date_start: `${input.value}-01`, date_end: lastDayOfMonth(input.value), date_precision: 'month' };
    case 'year':
      return { date_start: `${input.value}-01-01`, date_end: `${input.value}-12-31`, date_precision: 'year' };
    case 'range':
      return { date_start: input.from, date_end: input.to, date_precision: 'range' };
  }
}

export function fromStoredDate(row: { date_start: string; date_end: string; date_precision: string }): IncidentDate {
  return {
    precision: row.date_precision as IncidentDate['precision'],
    start: row.date_start,
    end: row.date_end,
  };
}

export function isRealDay(day: string): boolean {
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day;
}

function lastDayOfMonth(month: string): string {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(year, monthNumber, 0)); // day 0 of next month
  return last.toISOString().slice(0, 10);
}

/** Tomorrow in UTC: an incident reported from a time zone ahead of UTC may carry that date. */
function tomorrow(): string {
  return new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
}
