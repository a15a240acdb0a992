import { z } from 'zod';
import { incidentFilterShape } from '../incidents/incident-filters.ts';

/**
 * Statistics dimensions. Incident-level ones put each incident in one group; attackType,
 * actorType and attribution can put one incident in several groups (an attack that was both a
 * killing and an abduction counts under each), so group sums may exceed the totals, which never
 * double count. victimRole and gender group victims.
 */
export const DIMENSIONS = [
  'year',
  'month',
  'country',
  'attackType',
  'actorType',
  'attribution',
  'victimRole',
  'gender',
  'verificationStatus',
  'motive',
  'judicialOutcome',
  'deathType',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const statisticsQuerySchema = z
  .strictObject({
    ...incidentFilterShape,
    groupBy: z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(z.enum(DIMENSIONS))
          .max(2, 'group by at most two dimensions')
          .refine((dimensions) => new Set(dimensions).size === dimensions.length, 'list each dimension once')
          .refine((dimensions) => !(dimensions.includes('year') && dimensions.includes('month')), 'month already includes the year'),
      )
      .default([]),
    includeDebunked: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .default(false)
      .describe('Debunked incidents are left out of statistics unless this is true.'),
  })
  .meta({ id: 'StatisticsQuery' });

export type StatisticsQuery = z.infer<typeof statisticsQuerySchema>;

const counts = {
  incidents: z.int(),
  victims: z.int().describe('Victims in these incidents (only those matching the victim filters, if any).'),
  victimsKilled: z.int(),
};

export const statisticsSchema = z
  .object({
    groupBy: z.array(z.enum(DIMENSIONS)),
    groups: z.array(
      z
        .object({ ...counts })
        .catchall(z.union([z.string(), z.int(), z.null()]))
        .describe('Dimension values plus counts; null means unknown or none.'),
    ),
    totals: z.object(counts),
    meta: z.object({ dataVersion: z.int(), dataAsOf: z.iso.datetime(), includeDebunked: z.boolean() }),
  })
  .meta({ id: 'Statistics' });
