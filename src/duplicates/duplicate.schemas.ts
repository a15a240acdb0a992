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

export const victimPairInputSchema = z
  .strictObject({
    keep: z
      .uuid('not a victim id')
      .describe("A victim of the survivor (`into`). It stays, takes the other's spellings as aliases and the fields it lacks."),
    merge: z.uuid('not a victim id').describe('A victim of the incident in the path, the same person as `keep`. Each at most once.'),
  })
  .meta({ id: 'VictimPairInput' });

export const mergeIncidentSchema = z
  .strictObject({
    into: z
      .uuid('not an incident id')
      .describe('The survivor: the incident that keeps everything. The incident in the path is merged into it.'),
    version: z.int().min(1).optional().describe('The version of the incident in the path you read; or send it as If-Match.'),
    intoVersion: z.int().min(1).optional().describe('The version of the survivor you read.'),
    victimPairs: z
      .array(victimPairInputSchema)
      .max(200)
      .optional()
      .describe(
        'Your own pairing of victims, replacing the automatic one entirely: exactly these pairs are folded together and every other victim ' +
          'is kept (unnamed ones too). `[]` pairs none. Leave it out for the automatic pairing; see it first with `?dryRun=true`.',
      ),
  })
  .meta({ id: 'MergeIncident' });

export type MergeIncidentInput = z.infer<typeof mergeIncidentSchema>;

export const mergeIncidentQuerySchema = z.strictObject({
  dryRun: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(false)
    .describe('`true` answers what the merge would do (the survivor after it, with `victimPairs`) and writes nothing.'),
});

export const victimPairSchema = z
  .object({
    kept: z.uuid().describe("The survivor's victim, which stays."),
    merged: z.uuid().describe("The merged incident's victim folded into it (it stays on the merged incident, hidden with it)."),
    names: z
      .object({ kept: z.string().nullable(), merged: z.string().nullable() })
      .describe('Name (else name in the original script) of each; null for none.'),
    match: z
      .enum(['same_name', 'similar_name', 'unnamed', 'reviewer'])
      .describe(
        'same_name: the same name once spelling, script and word order are set aside; similar_name: names alike enough for the ' +
          'duplicate score (0.5 or more); unnamed: neither named, paired in order; reviewer: sent in `victimPairs`.',
      ),
    similarity: z.number().min(0).max(1).nullable().describe('1 for the same name, the similarity of similar names, else null.'),
    reason: z.string(),
  })
  .meta({ id: 'VictimPair' });
