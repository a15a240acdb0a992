import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { incidentIdParamsSchema, incidentSchema } from '../incidents/incident.schemas.ts';
import { duplicateCandidateSchema, listDuplicatesQuerySchema, mergeIncidentSchema } from './duplicate.schemas.ts';

/**
 * The duplicates and merge paths for the OpenAPI document; openapi.document.ts passes in its
 * shared response helpers, so problems look the same everywhere.
 */
type Response = { description: string; content?: Record<string, { schema: z.ZodType }> };
export interface DuplicateOpenApiHelpers {
  json: (schema: z.ZodType, description: string) => Response;
  errors: Record<number, Response>;
  writeErrors: Record<number, Response>;
}

/** The 201 body of POST /v1/incidents: the incident plus what was flagged on create (only there). */
export const createdIncidentSchema = incidentSchema
  .extend({
    possibleDuplicates: z
      .array(duplicateCandidateSchema)
      .describe('Likely duplicates (score >= 0.6) flagged on create, among incidents you may see. Only in this response; see GET /v1/incidents/{id}/duplicates later.'),
  })
  .meta({ id: 'CreatedIncident' });

export function registerDuplicatePaths(registry: OpenAPIRegistry, { json, errors, writeErrors }: DuplicateOpenApiHelpers) {
  registry.registerPath({
    method: 'get', path: '/v1/incidents/{id}/duplicates', tags: ['incidents'], security: [{ apiKey: [] }, {}],
    summary: 'Possible duplicates of an incident, best first',
    description:
      'Computed now, among incidents you may see (the public: published ones). Score 0..1 from victim names (0.5; names compared after ' +
      'normalising accents, "al-"/"el-", "Abd al-"/"Abdul", q/k, doubled letters and word order, else by trigram similarity), dates overlapping ' +
      'within their precision (0.25), country (0.1), city (0.05) and a shared attack type (0.1). A protected victim counts only for its own ' +
      'organisation, and the reason then says only that "a protected victim\'s name matches".',
    request: { params: incidentIdParamsSchema, query: listDuplicatesQuerySchema },
    responses: { 200: json(z.object({ data: z.array(duplicateCandidateSchema) }), 'Candidates with score and reasons.'), ...errors },
  });
  registry.registerPath({
    method: 'post', path: '/v1/incidents/{id}/merge', tags: ['incidents'], security: [{ apiKey: [] }],
    summary: 'Merge this incident into another (reviewer)',
    description:
      'The incident in the path (the loser) is merged into `into` (the survivor), both of your organisation. The survivor takes the loser\'s ' +
      'victims (same normalised name = same victim; other spellings become aliases), perpetrator claims (same actor and attribution) and sources ' +
      '(same URL or title) it lacks; a private copy keeps a source private, a protected copy keeps a victim protected. The loser is kept, hidden ' +
      'from reads and lists; GET on it answers 308 to the survivor for whoever may see the survivor. Both versions move on; both get an ' +
      'incident.merge audit record. If-Match or `version` is the loser\'s version, `intoVersion` the survivor\'s.',
    request: {
      params: incidentIdParamsSchema,
      headers: z.object({ 'if-match': z.string().optional() }),
      body: { content: { 'application/json': { schema: mergeIncidentSchema } } },
    },
    responses: { 200: json(incidentSchema, 'The survivor after the merge.'), ...writeErrors },
  });
}
