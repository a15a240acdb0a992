import { z } from 'zod';

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
