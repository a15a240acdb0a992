import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  apiKeySchema,
  createApiKeySchema,
  createdApiKeySchema,
  apiKeyIdParamsSchema,
  listApiKeysQuerySchema,
  rotateApiKeySchema,
  rotatedApiKeySchema,
} from '../auth/api-key.schemas.ts';
import {
  createIncidentSchema,
  deleteIncidentSchema,
  incidentIdParamsSchema,
  incidentSchema,
  publicIncidentSchema,
  researchIncidentSchema,
  updateIncidentSchema,
  verificationChangeSchema,
  versionOnlySchema,
} from '../incidents/incident.schemas.ts';
import { auditEntrySchema, verificationHistoryEntrySchema } from '../audit/audit.schemas.ts';
import { registerAuditPaths } from '../audit/audit.openapi.ts';
import { registerFeedPaths } from '../feeds/feed.openapi.ts';
import { registerImportPaths } from '../imports/import.openapi.ts';
import { registerWebhookPaths } from '../webhooks/webhook.openapi.ts';
import { statisticsQuerySchema, statisticsSchema } from '../statistics/statistics.schemas.ts';
import { createdIncidentSchema, registerDuplicatePaths } from '../duplicates/duplicate.openapi.ts';
import { csvTextSchema, exportIncidentsQuerySchema } from '../exports/export.schemas.ts';
import { tableFormatSchema } from '../http/response-format.ts';
import { listIncidentsRequestSchema } from '../incidents/incident.routes.ts';
import { createOrganisationSchema, organisationSchema } from '../organisations/organisation.schemas.ts';
import { registerDraftSharingPaths } from '../organisations/organisation.openapi.ts';
import { registerAccessGroupPaths } from '../access-groups/access-group.openapi.ts';

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so the
 * docs describe exactly what the API accepts.
 */
const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    instance: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ pointer: z.string().optional(), parameter: z.string().optional(), detail: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

const dataVersionSchema = z
  .object({ dataVersion: z.int(), dataAsOf: z.iso.datetime() })
  .meta({ id: 'DataVersion', description: 'Cite these with any figure: the data changes version on every write.' });

const anyIncident = z.union([incidentSchema, researchIncidentSchema, publicIncidentSchema]);
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: problemSchema } },
});
const ifMatch = z.object({ 'if-match': z.string().optional().describe('The ETag of the version you edit, e.g. "3".') });
const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } } } });
const errors = {
  400: problem('Invalid input; `errors` lists each field.'),
  401: problem('Missing, unknown, revoked or expired API key.'),
  403: problem("Your role, or your key's scopes, may not do this."),
  404: problem('Not found, or not visible to you.'),
  429: problem('Rate limit reached, or too many failed authentications from your address.'),
};
const writeErrors = { ...errors, 409: problem('Stale version or conflicting state.'), 428: problem('Send If-Match or version.') };

function buildRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer dl_...' });
  const secured: Array<Record<string, string[]>> = [{ apiKey: [] }, {}]; // key optional
  const incident = { params: incidentIdParamsSchema };

  registry.registerPath({
    method: 'get',
    path: '/v1/incidents',
    operationId: 'listIncidents',
    tags: ['incidents'],
    security: secured,
    summary: 'List incidents visible to you, newest first',
    request: { query: listIncidentsRequestSchema },
    responses: {
      200: {
        description:
          'A page of incidents, each in the shape your role may see. Weak ETag; send If-None-Match for 304. ' +
          'As CSV (format=csv or Accept: text/csv), one row per incident with the columns of the export; the next page is in the Link header (rel="next").',
        content: {
          'application/json': {
            schema: z.object({
              data: z.array(anyIncident),
              nextCursor: z.string().nullable(),
              total: z.int().optional(),
              meta: dataVersionSchema,
            }),
          },
          'text/csv': { schema: csvTextSchema },
        },
      },
      304: { description: 'Unchanged since the ETag you sent.' },
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/incidents/export',
    operationId: 'exportIncidents',
    tags: ['incidents'],
    security: secured,
    summary: 'Export every incident matching the filters, as CSV, JSON or GeoJSON',
    description:
      'Takes the filters of the list and returns all matching incidents as one file, read from one consistent snapshot of the data, ' +
      'each incident in the shape your role may see (the same redaction as the list). The format comes from `format` or, without it, the Accept header. ' +
      'CSV columns: id, title, description, date_precision, date_start, date_end, country, region, city, latitude, longitude, coordinate_precision, ' +
      'attack_types, verification_status, motive, judicial_outcome, death_type, victim_count, victims_killed, victim_names, victim_roles, victim_outcomes, ' +
      'victim_genders, victim_nationalities, victim_outlets, victim_protected, perpetrators ("actor (actor_type, attribution)"), source_titles, source_urls, ' +
      'source_kinds, source_public, organisation, published_at, updated_at; lists are joined with ";" and ' +
      'the victim_* and source_* lists run in parallel. Editors and reviewers also get internal_notes (their own incidents only), and they and researchers ' +
      'get visibility and version. GeoJSON holds only incidents with coordinates, as Points; the properties are the incident without its coordinates.',
    request: { query: exportIncidentsQuerySchema },
    responses: {
      200: {
        description:
          'The file, as an attachment named dateline-incidents-<dataVersion>.<csv|json|geojson>; X-Data-Version names the data version.',
        content: {
          'text/csv': { schema: csvTextSchema },
          'application/json': {
            schema: z.object({ data: z.array(anyIncident), meta: dataVersionSchema.extend({ exportedAt: z.iso.datetime() }) }),
          },
          'application/geo+json': {
            schema: z.object({
              type: z.literal('FeatureCollection'),
              features: z.array(
                z.object({
                  type: z.literal('Feature'),
                  id: z.uuid(),
                  geometry: z.object({
                    type: z.literal('Point'),
                    coordinates: z.tuple([z.number(), z.number()]).describe('[longitude, latitude]'),
                  }),
                  properties: z
                    .record(z.string(), z.unknown())
                    .describe('The incident as in the JSON export, location without coordinates but with coordinatePrecision.'),
                }),
              ),
              meta: dataVersionSchema.extend({ exportedAt: z.iso.datetime() }),
            }),
          },
        },
      },
      304: { description: 'Unchanged since the ETag you sent.' },
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/incidents',
    operationId: 'createIncident',
    tags: ['incidents'],
    security: [{ apiKey: [] }],
    summary: 'Log an incident with its victims, claims and sources (editor)',
    request: body(createIncidentSchema),
    responses: {
      201: json(createdIncidentSchema, 'Created; starts as an unverified draft. Carries the likely duplicates flagged on create.'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/incidents/{id}',
    operationId: 'getIncident',
    tags: ['incidents'],
    security: secured,
    summary: 'Read an incident, shaped by your role',
    request: incident,
    responses: {
      200: json(anyIncident, 'Full for the owning organisation, redacted for everyone else.'),
      308: { description: 'The incident was merged; Location names the survivor (only if you may see it).' },
      ...errors,
    },
  });
  registry.registerPath({
    method: 'patch',
    path: '/v1/incidents/{id}',
    operationId: 'updateIncident',
    tags: ['incidents'],
    security: [{ apiKey: [] }],
    summary: 'Update an incident (editor); needs If-Match or version',
    request: { ...incident, headers: ifMatch, ...body(updateIncidentSchema) },
    responses: { 200: json(incidentSchema, 'Updated.'), ...writeErrors },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/incidents/{id}',
    operationId: 'deleteIncident',
    tags: ['incidents'],
    security: [{ apiKey: [] }],
    summary: 'Soft-delete an incident with a reason (editor)',
    request: { ...incident, headers: ifMatch, ...body(deleteIncidentSchema) },
    responses: { 204: { description: 'Deleted; kept in the audit trail.' }, ...writeErrors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/incidents/{id}/verification',
    operationId: 'changeIncidentVerification',
    tags: ['incidents'],
    security: [{ apiKey: [] }],
    summary: 'Change verification status with a note (reviewer)',
    request: { ...incident, headers: ifMatch, ...body(verificationChangeSchema) },
    responses: { 200: json(incidentSchema, 'Changed.'), ...writeErrors },
  });
  for (const action of ['publish', 'unpublish']) {
    registry.registerPath({
      method: 'post',
      path: `/v1/incidents/{id}/${action}`,
      operationId: `${action}Incident`,
      tags: ['incidents'],
      security: [{ apiKey: [] }],
      summary: `${action === 'publish' ? 'Publish' : 'Withdraw to draft'} (reviewer)`,
      request: { ...incident, headers: ifMatch, ...body(versionOnlySchema) },
      responses: { 200: json(incidentSchema, 'Done.'), ...writeErrors },
    });
  }
  registry.registerPath({
    method: 'get',
    path: '/v1/incidents/{id}/history',
    operationId: 'listIncidentVerificationHistory',
    tags: ['incidents'],
    security: [{ apiKey: [] }],
    summary: 'Verification history (owning organisation, researchers)',
    request: incident,
    responses: {
      200: json(z.object({ data: z.array(verificationHistoryEntrySchema) }), 'Every status change with who, when and why.'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/incidents/{id}/audit',
    operationId: 'listIncidentAudit',
    tags: ['incidents'],
    security: [{ apiKey: [] }],
    summary: 'Audit trail (owning organisation)',
    request: incident,
    responses: {
      200: json(
        z.object({ data: z.array(auditEntrySchema) }),
        'Every write with the incident before and after; deleted incidents included.',
      ),
      ...errors,
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/v1/organisations',
    operationId: 'listOrganisations',
    tags: ['admin'],
    security: [{ apiKey: [] }],
    summary: 'List organisations (admin)',
    responses: { 200: json(z.object({ data: z.array(organisationSchema) }), 'All organisations.'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/organisations',
    operationId: 'createOrganisation',
    tags: ['admin'],
    security: [{ apiKey: [] }],
    summary: 'Create an organisation (admin)',
    request: body(createOrganisationSchema),
    responses: { 201: json(organisationSchema, 'Created.'), ...errors, 409: problem('Name taken.') },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/keys',
    operationId: 'listApiKeys',
    tags: ['admin'],
    security: [{ apiKey: [] }],
    summary: 'List API keys (admin)',
    request: { query: listApiKeysQuerySchema },
    responses: { 200: json(z.object({ data: z.array(apiKeySchema) }), 'Keys, without secrets.'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/keys',
    operationId: 'createApiKey',
    tags: ['admin'],
    security: [{ apiKey: [] }],
    summary: 'Create an API key (admin)',
    request: body(createApiKeySchema),
    responses: { 201: json(createdApiKeySchema, 'The key, shown once.'), ...errors },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/keys/{id}',
    operationId: 'revokeApiKey',
    tags: ['admin'],
    security: [{ apiKey: [] }],
    summary: 'Revoke an API key (admin)',
    request: { params: apiKeyIdParamsSchema },
    responses: { 204: { description: 'Revoked.' }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/keys/{id}/rotate',
    operationId: 'rotateApiKey',
    tags: ['admin'],
    security: [{ apiKey: [] }],
    summary: 'Rotate an API key (admin)',
    description:
      'Issues a new key with the same organisation, role, scopes and name. The old key keeps working for the grace period ' +
      '(gracePeriodSeconds, default 24 h, at most 7 days, never past its own expiry), then stops.',
    request: { params: apiKeyIdParamsSchema, ...body(rotateApiKeySchema) },
    responses: {
      201: json(rotatedApiKeySchema, 'The new key (its secret shown once) and the old one with the end of its grace.'),
      ...errors,
      404: problem('No such key.'),
      409: problem('The key is revoked, expired or already rotated.'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/stats',
    operationId: 'getStatistics',
    tags: ['statistics'],
    security: secured,
    summary: 'Count incidents, victims and victims killed, grouped by up to two dimensions',
    description:
      'Takes the filters of the list. Debunked incidents are left out unless includeDebunked=true. year and month are null when the ' +
      "incident's date is not known that precisely (a year-precision incident has month null). Time series are filled with zeros " +
      'between the first and last period, or between dateFrom and dateTo. Victim, attack-type and claim filters also limit what is counted ' +
      'in the groups. CSV (format=csv): one column per dimension, then the counts; totals in the X-Totals header.',
    request: { query: statisticsQuerySchema.extend(tableFormatSchema.shape) },
    responses: {
      200: {
        description: 'Groups and totals.',
        content: { 'application/json': { schema: statisticsSchema }, 'text/csv': { schema: csvTextSchema } },
      },
      304: { description: 'Unchanged since the ETag you sent.' },
      ...errors,
    },
  });
  registerImportPaths(registry, { json, problem, errors });
  registerDuplicatePaths(registry, { json, errors, writeErrors });
  registerFeedPaths(registry, { errors });
  registerWebhookPaths(registry, { json, errors });
  registerAuditPaths(registry, { json, errors });
  registerDraftSharingPaths(registry, { json, errors });
  registerAccessGroupPaths(registry, { json, errors, problem });
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    operationId: 'checkLiveness',
    tags: ['operations'],
    security: [{}],
    summary: 'Liveness: the process answers (not rate-limited)',
    responses: { 200: json(z.object({ status: z.literal('ok') }), 'The process answers.'), 400: errors[400] },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    operationId: 'checkReadiness',
    tags: ['operations'],
    security: [{}],
    summary: 'Readiness: the database answers too (not rate-limited)',
    responses: {
      200: json(z.object({ status: z.literal('ready') }), 'The database answers.'),
      400: errors[400],
      503: problem('The database is unreachable.'),
    },
  });
  return registry;
}

let cached: object | undefined;

export function openApiDocument(): object {
  cached ??= new OpenApiGeneratorV31(buildRegistry().definitions).generateDocument({
    openapi: '3.1.0',
    // Relative: the API is wherever this document is served from (/openapi.json).
    servers: [{ url: '/', description: 'This Dateline instance' }],
    info: {
      title: 'Dateline API',
      version: '1',
      description: 'Incident database for the safety of journalists and activists.',
      license: { name: 'AGPL-3.0-or-later', identifier: 'AGPL-3.0-or-later' },
    },
  });
  return cached;
}
