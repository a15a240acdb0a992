import { z } from 'zod';

/**
 * Who outside an organisation sees its drafts, in the research view (migration 0017). The
 * organisation's own admin sets it; the default is no one. Published incidents are not affected.
 */
export const setDraftSharingSchema = z
  .discriminatedUnion('sharedWith', [
    z.strictObject({ sharedWith: z.literal('no-one') }).describe('Only your own organisation sees your drafts (the default).'),
    z
      .strictObject({
        sharedWith: z.literal('organisations'),
        organisationIds: z
          .array(z.uuid())
          .min(1, 'name at least one organisation, or share with "no-one"')
          .max(500)
          .refine((ids) => new Set(ids).size === ids.length, 'each organisation once'),
      })
      .describe('The researchers of these organisations see your drafts.'),
    z.strictObject({ sharedWith: z.literal('all-researchers') }).describe('Researchers of every organisation see your drafts.'),
  ])
  .meta({
    id: 'SetDraftSharing',
    description: 'Who outside your organisation sees its drafts (in the research view, confidential details removed).',
  });

export type SetDraftSharingInput = z.infer<typeof setDraftSharingSchema>;

export const draftSharingSchema = z
  .object({
    organisationId: z.uuid(),
    sharedWith: z.enum(['no-one', 'organisations', 'all-researchers']),
    organisationIds: z.array(z.uuid()).describe('With "organisations": those named; otherwise empty.'),
  })
  .meta({ id: 'DraftSharing' });

export type DraftSharing = z.infer<typeof draftSharingSchema>;

export const organisationIdParamsSchema = z.strictObject({ id: z.uuid('must be an organisation id (a UUID)') });
