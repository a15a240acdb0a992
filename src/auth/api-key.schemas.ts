import { z } from 'zod';
import { ROLES } from './actor.ts';
import { SCOPE_DESCRIPTIONS, SCOPES, type Scope } from './scopes.ts';

/** Rotation grace: a day unless the caller says otherwise, a week at most. */
export const DEFAULT_GRACE_SECONDS = 24 * 60 * 60;
export const MAX_GRACE_SECONDS = 7 * 24 * 60 * 60;

const scopeList = Object.entries(SCOPE_DESCRIPTIONS)
  .map(([scope, description]) => `\`${scope}\`: ${description}`)
  .join('; ');

const scopesSchema = z
  .array(z.enum(SCOPES, { message: `use one of ${SCOPES.join(', ')}` }))
  .min(1, "give at least one scope, or leave scopes out for the role's full rights")
  .transform((scopes) => [...new Set(scopes)].sort() as Scope[])
  .describe(`Limit the key to these scopes (it can only narrow the role, never widen it). Omit for the role's full rights. ${scopeList}.`);

const futureDateTime = z.iso
  .datetime({ offset: true, message: 'use an ISO 8601 date-time with a time zone, e.g. 2027-06-30T00:00:00Z' })
  .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
  .describe('When the key stops working; omit for a key that does not expire.');

export const createApiKeySchema = z
  .strictObject({
    organisationId: z.uuid('not an organisation id'),
    name: z.string().trim().min(1, 'must not be empty').max(200).describe('Who or what uses the key, e.g. "Amal (editor)".'),
    role: z.enum(ROLES),
    scopes: scopesSchema.optional(),
    expiresAt: futureDateTime.optional(),
  })
  .meta({ id: 'CreateApiKey' });

export const rotateApiKeySchema = z
  .strictObject({
    gracePeriodSeconds: z
      .int('use a whole number of seconds')
      .min(0, 'must be 0 (stop at once) or more')
      .max(MAX_GRACE_SECONDS, `must be at most ${MAX_GRACE_SECONDS} (7 days)`)
      .default(DEFAULT_GRACE_SECONDS)
      .describe(`How long the old key keeps working; default ${DEFAULT_GRACE_SECONDS} (24 h), at most ${MAX_GRACE_SECONDS} (7 days).`),
    expiresAt: futureDateTime
      .optional()
      .describe('When the new key stops working; omit to give it the lifetime the old key had (none if it had none).'),
  })
  .meta({ id: 'RotateApiKey' });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    organisationId: z.uuid(),
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z.string().describe('The start of the key, to tell keys apart.'),
    scopes: z.array(z.enum(SCOPES)).nullable().describe("What the key may be used for; null: its role's full rights."),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable().describe('When the key stops (or stopped) working; null: never.'),
    revokedAt: z.iso.datetime().nullable(),
    replacedBy: z.uuid().nullable().describe('The key that replaced this one by rotation; this one works until expiresAt.'),
    lastUsedAt: z.iso
      .datetime()
      .nullable()
      .describe('When the key was last used, to within a minute (recorded at most once a minute per key and API process).'),
  })
  .meta({ id: 'ApiKey' });

export const createdApiKeySchema = apiKeySchema
  .extend({ key: z.string().describe('The secret. Shown only in this response; store it now.') })
  .meta({ id: 'CreatedApiKey' });

export const rotatedApiKeySchema = z
  .object({
    key: createdApiKeySchema.describe('The new key, with its secret (shown only here).'),
    replaced: apiKeySchema.describe('The old key: it keeps working until its expiresAt, the end of the grace period.'),
    graceEndsAt: z.iso.datetime().describe('When the old key stops working.'),
  })
  .meta({ id: 'RotatedApiKey' });

export const apiKeyIdParamsSchema = z.object({ id: z.uuid('not an API key id') });
export const listApiKeysQuerySchema = z.strictObject({ organisationId: z.uuid().optional() });

export function toApiKey(row: {
  id: string;
  organisation_id: string;
  name: string;
  role: z.infer<typeof apiKeySchema>['role'];
  prefix: string;
  scopes: string[] | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  replaced_by: string | null;
  last_used_at: Date | null;
}): z.infer<typeof apiKeySchema> {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    scopes: row.scopes as Scope[] | null,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    replacedBy: row.replaced_by,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}
