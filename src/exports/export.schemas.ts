import { z } from 'zod';
import { incidentFilterShape } from '../incidents/incident-filters.ts';
import { EXPORT_FORMATS } from './export-writers.ts';
import { formatParameter } from '../http/response-format.ts';

/** The export takes the list's filters and sorts, and no paging: it is every matching incident. */
export const exportIncidentsQuerySchema = z.strictObject({
  ...incidentFilterShape,
  sort: z
    .enum(['-date', 'date', '-updated', 'updated'])
    .default('-date')
    .describe('-date (default): newest first by the earliest possible date.'),
  format: formatParameter(EXPORT_FORMATS),
});

/** For the OpenAPI document: what every CSV answer is. */
export const csvTextSchema = z
  .string()
  .describe(
    'RFC 4180 CSV: UTF-8 with a byte-order mark, CRLF line ends, a header row. Text cells that start with = + - @ ' +
      '(or a tab or carriage return) get a leading apostrophe, so spreadsheets do not run them as formulas.',
  );
