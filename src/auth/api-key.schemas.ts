import { z } from 'zod';
import { ROLES } from './actor.ts';

export const createApiKeySchema = z
  .strictObject({
    organisationId: z.uuid('not an organisation id'),
    name: z.string().trim().min(1, 'must not be empty').max(200).describe('Who or what uses the key, e.g. "Amal (editor)".'),
    role: z.enum(ROLES),
  })
  .meta({ id: 'CreateApiKey' });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    organisationId: z.uuid(),
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z.string().describe('The start of the key, to tell keys apart.'),
    createdAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' });

export const createdApiKeySchema = apiKeySchema
  .extend({ key: z.string().describe('The secret. Shown only in this response; store it now.') })
  .meta({ id: 'CreatedApiKey' });

export const apiKeyIdParamsSchema = z.object({ id: z.uuid('not an API key id') });
export const listApiKeysQuerySchema = z.strictObject({ organisationId: z.uuid().optional() });

export function toApiKey(row: {
  id: string;
  organisation_id: string;
  name: string;
  role: z.infer<typeof apiKeySchema>['role'];
  prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}) {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}
