import { z } from 'zod';
import { incidentFilterShape } from '../incidents/incident-filters.ts';

/** Every public filter of the list, and how many entries (newest change first). */
export const feedQuerySchema = z.strictObject({
  ...incidentFilterShape,
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Entries and tombstones together, newest change first.'),
});
export type FeedQuery = z.infer<typeof feedQuerySchema>;
