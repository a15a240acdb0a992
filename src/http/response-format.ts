import type { Request } from 'express';
import { z } from 'zod';

/**
 * Which representation a read answers with. The `format` query parameter wins (a link in a
 * browser or a spreadsheet's "import from URL" cannot set headers); otherwise the Accept header
 * is matched by its q-values; anything else gets the first format offered, JSON.
 */
export const MEDIA_TYPES = {
  json: 'application/json',
  csv: 'text/csv',
  geojson: 'application/geo+json',
} as const;

export type Format = keyof typeof MEDIA_TYPES;

export function formatParameter<const F extends Format>(formats: readonly [F, ...F[]]) {
  return z
    .enum(formats)
    .optional()
    .describe(`${formats.join(', ')}; overrides the Accept header (${formats.map((format) => MEDIA_TYPES[format]).join(', ')}).`);
}

export function chooseFormat<F extends Format>(req: Request, requested: F | undefined, formats: readonly [F, ...F[]]): F {
  if (requested) return requested;
  const accepted = req.accepts(formats.map((format) => MEDIA_TYPES[format]));
  return formats.find((format) => MEDIA_TYPES[format] === accepted) ?? formats[0];
}

/** GET /v1/incidents and GET /v1/stats: JSON, or CSV on request. */
export const TABLE_FORMATS = ['json', 'csv'] as const;
export const tableFormatSchema = z.object({ format: formatParameter(TABLE_FORMATS) });
