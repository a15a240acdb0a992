import type { Transaction } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { DataVersion } from '../db/data-version.ts';
import type { Database } from '../db/database.ts';
import type { IncidentFilters } from '../incidents/incident-filters.ts';
import type { IncidentDocument } from '../incidents/incident-documents.ts';
import { listIncidentDocumentPage, type PageCursor } from '../incidents/incident-list.queries.ts';
import type { PublicIncident } from '../incidents/incident.schemas.ts';
import { listVerificationChangesOf } from '../incidents/verification.queries.ts';
import { CSV_CONTENT_TYPE } from './csv.ts';
import { incidentCsvChunks } from './csv-export.ts';
import { incidentCsvHead, type ExportSort } from './incident-csv.ts';
import { readAhead } from './read-ahead.ts';

/**
 * How each export format writes its file in pieces, so that an export of any size is written
 * chunk by chunk: the head, then the body read from the export's transaction, then the tail.
 * CSV lines are built by PostgreSQL (incident-csv.ts); JSON and GeoJSON are built here from the
 * incidents as the caller gets them (stored documents where the view allows,
 * src/incidents/incident-documents.ts), a batch at a time. In the JSON export,
 * the owning organisation's incidents also carry their verification history
 * (`verificationHistory`, as GET /v1/incidents/{id}/history shows it to the owner, without the
 * entries' ids), so that the file moves an incident to another instance without loss
 * (src/imports/README.md, "json").
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
  body(trx: Transaction<Database>, filters: IncidentFilters, sort: ExportSort): AsyncIterable<string>;
  tail(meta: ExportMeta): string;
}

/** `batchSize`: incidents (or CSV lines) read per query; one batch and its text is what an export holds in memory. */
export function exportWriter(format: ExportFormat, actor: Actor, batchSize: number): ExportWriter {
  switch (format) {
    case 'csv':
      return {
        contentType: CSV_CONTENT_TYPE,
        extension: 'csv',
        head: () => incidentCsvHead(actor),
        body: (trx, filters, sort) => incidentCsvChunks(trx, actor, filters, sort, batchSize),
        tail: () => '',
      };
    case 'json':
      return {
        contentType: 'application/json; charset=utf-8',
        extension: 'json',
        ...streamedArray(actor, batchSize, '{"data":[', withExtra, ownHistories),
      };
    case 'geojson':
      return {
        contentType: 'application/geo+json; charset=utf-8',
        extension: 'geojson',
        ...streamedArray(actor, batchSize, '{"type":"FeatureCollection","features":[', toFeature),
      };
  }
}

/** Fields added to some incidents of a batch, by id, read with one query per batch. */
type BatchExtras = (trx: Transaction<Database>, documents: readonly IncidentDocument[]) => Promise<ReadonlyMap<string, object>>;

/** The verification history of the caller's own incidents (full view only): one query per batch. */
const ownHistories: BatchExtras = async (trx, documents) => {
  // Reviewers' notes may name a restricted victim: as GET /v1/incidents/{id}/history, only for those who see all of it.
  const own = documents
    .filter((document) => document.view === 'full' && !document.tree?.victims.some((victim) => victim.sealed))
    .map((document) => document.id);
  const histories = await listVerificationChangesOf(trx, own);
  return new Map(own.map((id) => [id, { verificationHistory: (histories.get(id) ?? []).map(({ id: _id, ...change }) => change) }]));
};

/**
 * A JSON document with one array written item by item: the opening, the items with commas
 * between them, then `],"meta":{...}}`. `item` may skip an incident by returning undefined.
 * (In GeoJSON, meta is a foreign member of the FeatureCollection, which RFC 7946 allows.)
 */
function streamedArray(
  actor: Actor,
  batchSize: number,
  opening: string,
  item: (document: IncidentDocument, extra?: object) => string | undefined,
  extras?: BatchExtras,
) {
  return {
    head: () => opening,
    body: async function* (trx: Transaction<Database>, filters: IncidentFilters, sort: ExportSort) {
      let first = true;
      // A batch's extras are read with it, so the read ahead fetches both while this batch is sent.
      const read = (after?: PageCursor) => async () => {
        const page = await listIncidentDocumentPage(trx, actor, { filters, sort, limit: batchSize, after });
        return { ...page, extra: extras ? await extras(trx, page.documents) : undefined };
      };
      for await (const { documents, extra } of readAhead(read(), (page) => (page.next ? read(page.next) : undefined))) {
        const parts: string[] = [];
        for (const document of documents) {
          const value = item(document, extra?.get(document.id));
          if (value !== undefined) parts.push(value);
        }
        if (!parts.length) continue;
        yield (first ? '' : ',') + parts.join(',');
        first = false;
      }
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
function toFeature({ json }: IncidentDocument) {
  const incident = JSON.parse(json) as PublicIncident;
  const { coordinates, ...location } = incident.location;
  if (!coordinates) return undefined;
  return JSON.stringify({
    type: 'Feature',
    id: incident.id,
    geometry: { type: 'Point', coordinates: [coordinates.longitude, coordinates.latitude] },
    properties: { ...incident, location: { ...location, coordinatePrecision: coordinates.precision } },
  });
}

/** An incident of the JSON export, with the members `extra` adds (spliced: the document stays as stored). */
function withExtra({ json }: IncidentDocument, extra?: object) {
  const members = extra && JSON.stringify(extra);
  return members && members !== '{}' ? `${json.slice(0, -1)},${members.slice(1)}` : json;
}
