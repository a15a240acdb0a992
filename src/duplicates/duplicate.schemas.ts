import { z } from 'zod';
import { incidentDateSchema } from '../incidents/incident-date.ts';

/**
 * Wire shapes for duplicates and merges. A candidate carries only what anyone allowed to see
 * the candidate may see (title, date, place, organisation name) plus the score and reasons,
 * which never name a protected victim.
 */
export const duplicateReasonSchema = z.object({
  kind: z.enum(['victim_name', 'date', 'country', 'city', 'attack_type']),
  detail: z.string(),
});

export const duplicateCandidateSchema = z
  .object({
    id: z.uuid(),
    score: z.number().min(0).max(1).describe('0..1; 0.6 or more is flagged as a likely duplicate on create and import.'),
    reasons: z.array(duplicateReasonSchema).describe('Strongest first.'),
    incident: z.object({
      title: z.string(),
      date: incidentDateSchema,
      location: z.object({ country: z.string(), city: z.string().nullable() }),
      organisation: z.object({ name: z.string() }),
    }),
  })
  .meta({ id: 'DuplicateCandidate' });

export type DuplicateCandidate = z.infer<typeof duplicateCandidateSchema>;

export const listDuplicatesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  minScore: z.coerce.number().min(0).max(1).default(0.3).describe('Leave out weaker candidates.'),
});

export const mergeIncidentSchema = z
  .strictObject({
    into: z.uuid('not an incident id').describe('The survivor: the incident that keeps everything. The incident in the path is merged into it.'),
    version: z.int().min(1).optional().describe('The version of the incident in the path you read; or send it as If-Match.'),
    intoVersion: z.int().min(1).optional().describe('The version of the survivor you read.'),
  })
  .meta({ id: 'MergeIncident' });

export type MergeIncidentInput = z.infer<typeof mergeIncidentSchema>;
