import { z } from 'zod';
import { AUDIT_ENTITY_TYPES } from './audit-chain.ts';

export const auditEntrySchema = z
  .object({
    id: z.int(),
    occurredAt: z.iso.datetime(),
    action: z.string().describe('e.g. incident.create, incident.update, incident.delete, incident.verification, incident.publish'),
    actor: z.object({
      keyId: z.uuid().nullable(),
      keyName: z.string().nullable(),
      role: z
        .string()
        .nullable()
        .describe(
          "The key's role, or system:<tool> for writes made outside the API by a tool the operator runs (system:import-cli, system:seed, system:keys-cli, system:bootstrap); keyId is then null.",
        ),
    }),
    requestId: z.string().nullable().describe('Matches the X-Request-Id of the request and the server logs.'),
    before: z.unknown().describe('The whole incident before the write (null on create).'),
    after: z.unknown().describe('The whole incident after the write.'),
  })
  .meta({ id: 'AuditEntry' });

export const verificationHistoryEntrySchema = z
  .object({
    id: z.uuid(),
    from: z.string(),
    to: z.string(),
    note: z.string().optional().describe('Owning organisation only.'),
    changedAt: z.iso.datetime(),
    changedBy: z.string().nullable().optional().describe("Name of the reviewer's API key; owning organisation only."),
  })
  .meta({ id: 'VerificationHistoryEntry' });

// ---------------------------------------------------------------- the organisation's audit feed and the chain's head

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const auditFeedQuerySchema = z.strictObject({
  action: z.string().min(1).max(100).optional().describe('Only this action, e.g. incident.update or api_key.revoke.'),
  entityType: z.enum(AUDIT_ENTITY_TYPES).optional(),
  entityId: z.uuid('not an id').optional().describe('Only records about this incident, key, webhook or organisation.'),
  actorKeyId: z.uuid('not a key id').optional().describe('Only records written with this API key.'),
  from: z.iso.datetime({ offset: true }).optional().describe('Only records written at or after this time (ISO 8601).'),
  to: z.iso.datetime({ offset: true }).optional().describe('Only records written before this time (ISO 8601).'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(100).optional().describe('nextCursor from the previous page.'),
});
export type AuditFeedQuery = z.infer<typeof auditFeedQuerySchema>;

export const auditRecordSchema = z
  .object({
    id: z.int(),
    position: z.int().describe("The record's place in the hash chain: 1, 2, 3... across the whole instance."),
    occurredAt: z.iso.datetime(),
    action: z.string(),
    entityType: z.enum(AUDIT_ENTITY_TYPES),
    entityId: z.uuid(),
    organisationId: z.uuid().nullable(),
    actor: auditEntrySchema.shape.actor,
    requestId: z.string().nullable(),
    before: z
      .unknown()
      .optional()
      .describe(
        'The key or organisation before the write (null on create). Not given for incidents and webhooks: whole incidents ' +
          "(drafts, internal notes, protected victims) are for the owning organisation's editors and reviewers, at GET /v1/incidents/{id}/audit.",
      ),
    after: z.unknown().optional().describe('The key or organisation after the write; not given for incidents and webhooks, as `before`.'),
    prevHash: sha256Hex.describe('The hash of the record before it in the chain (64 zeros for the first).'),
    hash: sha256Hex.describe("SHA-256 (hex) of prevHash and this record's content as canonical JSON (RFC 8785)."),
  })
  .meta({ id: 'AuditRecord' });

export const auditFeedSchema = z.object({
  data: z.array(auditRecordSchema).describe('Newest first.'),
  nextCursor: z.string().nullable(),
});

export const auditHeadSchema = z
  .object({
    id: z.int().nullable().describe('The id of the last record in the chain; null before the first.'),
    hash: sha256Hex.nullable(),
    occurredAt: z.iso.datetime().nullable(),
    count: z.int().describe('How many records the chain holds, across the whole instance.'),
  })
  .meta({
    id: 'AuditHead',
    description:
      'The head of the audit hash chain. Store it somewhere the operator cannot change (your own records, an email); ' +
      '`npm run audit -- verify --head <id>:<hash>` then shows whether the chain still holds it unchanged.',
  });
