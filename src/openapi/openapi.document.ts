import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { apiKeySchema, createApiKeySchema, createdApiKeySchema, apiKeyIdParamsSchema, listApiKeysQuerySchema } from '../auth/api-key.schemas.ts';
import {
  createIncidentSchema,
  deleteIncidentSchema,
  incidentIdParamsSchema,
  incidentSchema,
  listIncidentsQuerySchema,
  publicIncidentSchema,
  researchIncidentSchema,
  updateIncidentSchema,
  verificationChangeSchema,
  versionOnlySchema,
} from '../incidents/incident.schemas.ts';
import { auditEntrySchema, verificationHistoryEntrySchema } from '../audit/audit.schemas.ts';
import { createOrganisationSchema, organisationSchema } from '../organisations/organisation.schemas.ts';

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
    errors: z
      .array(z.object({ pointer: z.string().optional(), parameter: z.string().optional(), detail: z.string() }))
      .optional(),
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
  401: problem('Missing, unknown or revoked API key.'),
  403: problem('Your role may not do this.'),
  404: problem('Not found, or not visible to you.'),
  429: problem('Rate limit reached.'),
};
const writeErrors = { ...errors, 409: problem('Stale version or conflicting state.'), 428: problem('Send If-Match or version.') };

function buildRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer dl_...' });
  const secured: Array<Record<string, string[]>> = [{ apiKey: [] }, {}]; // key optional
  const incident = { params: incidentIdParamsSchema };

  registry.registerPath({
    method: 'get', path: '/v1/incidents', tags: ['incidents'], security: secured,
    summary: 'List incidents visible to you, newest first',
    request: { query: listIncidentsQuerySchema },
    responses: {
      200: json(
        z.object({ data: z.array(anyIncident), nextCursor: z.string().nullable(), total: z.int().optional(), meta: dataVersionSchema }),
        'A page of incidents, each in the shape your role may see. Weak ETag; send If-None-Match for 304.',
      ),
      304: { description: 'Unchanged since the ETag you sent.' },
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post', path: '/v1/incidents', tags: ['incidents'], security: [{ apiKey: [] }],
    summary: 'Log an incident with its victims, claims and sources (editor)',
    request: body(createIncidentSchema),
    responses: { 201: json(incidentSchema, 'Created; starts as an unverified draft.'), ...errors },
  });
  registry.registerPath({
    method: 'get', path: '/v1/incidents/{id}', tags: ['incidents'], security: secured,
    summary: 'Read an incident, shaped by your role', request: incident,
    responses: { 200: json(anyIncident, 'Full for the owning organisation, redacted for everyone else.'), ...errors },
  });
  registry.registerPath({
    method: 'patch', path: '/v1/incidents/{id}', tags: ['incidents'], security: [{ apiKey: [] }],
    summary: 'Update an incident (editor); needs If-Match or version', request: { ...incident, headers: ifMatch, ...body(updateIncidentSchema) },
    responses: { 200: json(incidentSchema, 'Updated.'), ...writeErrors },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/incidents/{id}', tags: ['incidents'], security: [{ apiKey: [] }],
    summary: 'Soft-delete an incident with a reason (editor)', request: { ...incident, headers: ifMatch, ...body(deleteIncidentSchema) },
    responses: { 204: { description: 'Deleted; kept in the audit trail.' }, ...writeErrors },
  });
  registry.registerPath({
    method: 'post', path: '/v1/incidents/{id}/verification', tags: ['incidents'], security: [{ apiKey: [] }],
    summary: 'Change verification status with a note (reviewer)', request: { ...incident, headers: ifMatch, ...body(verificationChangeSchema) },
    responses: { 200: json(incidentSchema, 'Changed.'), ...writeErrors },
  });
  for (const action of ['publish', 'unpublish']) {
    registry.registerPath({
      method: 'post', path: `/v1/incidents/{id}/${action}`, tags: ['incidents'], security: [{ apiKey: [] }],
      summary: `${action === 'publish' ? 'Publish' : 'Withdraw to draft'} (reviewer)`, request: { ...incident, headers: ifMatch, ...body(versionOnlySchema) },
      responses: { 200: json(incidentSchema, 'Done.'), ...writeErrors },
    });
  }
  registry.registerPath({
    method: 'get', path: '/v1/incidents/{id}/history', tags: ['incidents'], security: [{ apiKey: [] }],
    summary: 'Verification history (owning organisation, researchers)', request: incident,
    responses: { 200: json(z.object({ data: z.array(verificationHistoryEntrySchema) }), 'Every status change with who, when and why.'), ...errors },
  });
  registry.registerPath({
    method: 'get', path: '/v1/incidents/{id}/audit', tags: ['incidents'], security: [{ apiKey: [] }],
    summary: 'Audit trail (owning organisation)', request: incident,
    responses: { 200: json(z.object({ data: z.array(auditEntrySchema) }), 'Every write with the incident before and after; deleted incidents included.'), ...errors },
  });

  registry.registerPath({
    method: 'get', path: '/v1/organisations', tags: ['admin'], security: [{ apiKey: [] }], summary: 'List organisations (admin)',
    responses: { 200: json(z.object({ data: z.array(organisationSchema) }), 'All organisations.'), ...errors },
  });
  registry.registerPath({
    method: 'post', path: '/v1/organisations', tags: ['admin'], security: [{ apiKey: [] }], summary: 'Create an organisation (admin)',
    request: body(createOrganisationSchema),
    responses: { 201: json(organisationSchema, 'Created.'), ...errors, 409: problem('Name taken.') },
  });
  registry.registerPath({
    method: 'get', path: '/v1/keys', tags: ['admin'], security: [{ apiKey: [] }], summary: 'List API keys (admin)',
    request: { query: listApiKeysQuerySchema },
    responses: { 200: json(z.object({ data: z.array(apiKeySchema) }), 'Keys, without secrets.'), ...errors },
  });
  registry.registerPath({
    method: 'post', path: '/v1/keys', tags: ['admin'], security: [{ apiKey: [] }], summary: 'Create an API key (admin)',
    request: body(createApiKeySchema),
    responses: { 201: json(createdApiKeySchema, 'The key, shown once.'), ...errors },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/keys/{id}', tags: ['admin'], security: [{ apiKey: [] }], summary: 'Revoke an API key (admin)',
    request: { params: apiKeyIdParamsSchema },
    responses: { 204: { description: 'Revoked.' }, ...errors },
  });
  return registry;
}

let cached: object | undefined;

export function openApiDocument(): object {
  cached ??= new OpenApiGeneratorV31(buildRegistry().definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Dateline API',
      version: '1',
      description: 'Incident database for the safety of journalists and activists.',
      license: { name: 'AGPL-3.0-or-later', identifier: 'AGPL-3.0-or-later' },
    },
  });
  return cached;
}
