import type { Actor } from '../auth/actor.ts';
import type { DataVersion } from '../db/data-version.ts';
import { CSV_CONTENT_TYPE, csvTable } from './csv.ts';
import { incidentCsvColumns, type ShapedIncident } from './incident-csv.ts';

/**
 * How each export format writes its file in pieces, so that an export of any size is written
 * batch by batch: the head, then each batch of incidents (already shaped for the caller), then
 * the tail. A writer keeps only the state it needs between batches (whether a comma is due).
 */
export const EXPORT_FORMATS = ['json', 'csv', 'geojson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportMeta extends DataVersion {
  exportedAt: string;
}

export interface ExportWriter {
  contentType: string;
  extension: string;
  head(): string;
  batch(incidents: readonly ShapedIncident[]): string;
  tail(meta: ExportMeta): string;
}

export function exportWriter(format: ExportFormat, actor: Actor): ExportWriter {
  switch (format) {
    case 'csv': {
      const table = csvTable(incidentCsvColumns(actor));
      return { contentType: CSV_CONTENT_TYPE, extension: 'csv', head: table.head, batch: table.rows, tail: () => '' };
    }
    case 'json':
      return { contentType: 'application/json; charset=utf-8', extension: 'json', ...streamedArray('{"data":[', (incident) => incident) };
    case 'geojson':
      return {
        contentType: 'application/geo+json; charset=utf-8',
        extension: 'geojson',
        ...streamedArray('{"type":"FeatureCollection","features":[', toFeature),
      };
  }
}

/**
 * A JSON document with one array written item by item: the opening, the items with commas
 * between them, then `],"meta":{...}}`. `item` may skip an incident by returning undefined.
 * (In GeoJSON, meta is a foreign member of the FeatureCollection, which RFC 7946 allows.)
 */
function streamedArray(opening: string, item: (incident: ShapedIncident) => unknown) {
  let first = true;
  return {
    head: () => opening,
    batch: (incidents: readonly ShapedIncident[]) => {
      const parts: string[] = [];
      for (const incident of incidents) {
        const value = item(incident);
        if (value !== undefined) parts.push(JSON.stringify(value));
      }
      if (!parts.length) return '';
      const text = (first ? '' : ',') + parts.join(',');
      first = false;
      return text;
    },
    tail: (meta: ExportMeta) => `],"meta":${JSON.stringify(meta)}}`,
  };
}

/**
 * An incident with coordinates as a GeoJSON Point ([longitude, latitude], RFC 7946); its
 * properties are the incident in the caller's view without the coordinates, which the geometry
 * holds, except their precision ("city" means the point is only the city), kept in the location.
 * Incidents without coordinates are left out.
 */
function toFeature(incident: ShapedIncident) {
  const { coordinates, ...location } = incident.location;
  if (!coordinates) return undefined;
  return {
    type: 'Feature',
    id: incident.id,
    geometry: { type: 'Point', coordinates: [coordinates.longitude, coordinates.latitude] },
    properties: { ...incident, location: { ...location, coordinatePrecision: coordinates.precision } },
  };
}
