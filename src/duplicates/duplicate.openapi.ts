import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { incidentIdParamsSchema, incidentSchema } from '../incidents/incident.schemas.ts';
import {
  duplicateCandidateSchema,
  listDuplicatesQuerySchema,
  mergeIncidentQuerySchema,
  mergeIncidentSchema,
  victimPairSchema,
} from './duplicate.schemas.ts';

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
      .describe(
        'Likely duplicates (score >= 0.6) flagged on create, among incidents you may see. Only in this response; see GET /v1/incidents/{id}/duplicates later.',
      ),
  })
  .meta({ id: 'CreatedIncident' });

/** The 200 body of POST /v1/incidents/{id}/merge: the survivor plus the victims paired. */
export const mergedIncidentSchema = incidentSchema
  .extend({
    victimPairs: z
      .array(victimPairSchema)
      .describe(
        "The victims of the merged incident folded into one of the survivor's (one entry per merged victim); every other victim of the merged incident was added.",
      ),
    dryRun: z.literal(true).optional().describe('Only in the answer to `?dryRun=true`: nothing was written.'),
  })
  .meta({ id: 'MergedIncident' });

export function registerDuplicatePaths(registry: OpenAPIRegistry, { json, errors, writeErrors }: DuplicateOpenApiHelpers) {
  registry.registerPath({
    method: 'get',
    path: '/v1/incidents/{id}/duplicates',
    operationId: 'listIncidentDuplicates',
    tags: ['incidents'],
    security: [{ apiKey: [] }, {}],
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
    method: 'post',
    path: '/v1/incidents/{id}/merge',
    operationId: 'mergeIncident',
    tags: ['incidents'],
    security: [{ apiKey: [] }],
    summary: 'Merge this incident into another (reviewer)',
    description:
      "The incident in the path (the loser) is merged into `into` (the survivor), both of your organisation. The survivor takes the loser's " +
      'victims, perpetrator claims (same actor and attribution) and sources (same URL or title) it lacks; a private copy keeps a source ' +
      'private, a protected copy keeps a victim protected.\n\n' +
      'Victims who are the same person are paired and kept once, so statistics count them once. Names (any of name, original script, ' +
      'aliases) are compared as for duplicates: the same name once spelling, script and word order are set aside pairs (a record listing ' +
      'one person twice folds both into one); else similar names (0.5 or more; a name sharing only a first or a family name with the ' +
      'other, such as "Mohammed Ali" and "Mohammed Ahmed", stays below) pair closest first, each victim at most once; unnamed victims ' +
      "pair in order. Victims whose recorded genders differ are never paired. The survivor's " +
      "victim is kept, with the other's spellings as aliases and the fields it lacks filled in (never overwritten); protected if either is. " +
      'Send `victimPairs` to pair yourself (`[]` for none); `?dryRun=true` answers the same and writes nothing. The pairing is in the ' +
      "answer (`victimPairs`) and in the survivor's audit record.\n\n" +
      'The loser is kept, hidden from reads and lists; GET on it answers 308 to the survivor for whoever may see the survivor. Both versions ' +
      "move on; both get an incident.merge audit record. If-Match or `version` is the loser's version, `intoVersion` the survivor's.",
    request: {
      params: incidentIdParamsSchema,
      query: mergeIncidentQuerySchema,
      headers: z.object({ 'if-match': z.string().optional() }),
      body: { content: { 'application/json': { schema: mergeIncidentSchema } } },
    },
    responses: {
      200: json(mergedIncidentSchema, 'The survivor after the merge (or, for a dry run, as it would be), with the victims paired.'),
      ...writeErrors,
    },
  });
}
