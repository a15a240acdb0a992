import { z } from 'zod';

/** Need-to-know access groups inside an organisation (README, "Sharing and access groups"). */
const groupName = z.string().trim().min(1, 'must not be empty').max(200);

export const createAccessGroupSchema = z.strictObject({ name: groupName }).meta({ id: 'CreateAccessGroup' });
export const renameAccessGroupSchema = z.strictObject({ name: groupName }).meta({ id: 'RenameAccessGroup' });

export const accessGroupSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    createdAt: z.iso.datetime(),
    memberKeyIds: z.array(z.uuid()).describe('Keys of your organisation in the group.'),
  })
  .meta({ id: 'AccessGroup' });
export type AccessGroup = z.infer<typeof accessGroupSchema>;

export const accessGroupIdParamsSchema = z.strictObject({ id: z.uuid('must be an access group id (a UUID)') });
export const memberParamsSchema = z.strictObject({
  id: z.uuid('must be an access group id (a UUID)'),
  keyId: z.uuid('must be an API key id (a UUID)'),
});
export const incidentParamsSchema = z.strictObject({ id: z.uuid('must be an incident id (a UUID)') });
export const victimParamsSchema = z.strictObject({
  id: z.uuid('must be an incident id (a UUID)'),
  victimId: z.uuid('must be a victim id (a UUID)'),
});

export const setAccessGroupsSchema = z
  .strictObject({
    groupIds: z
      .array(z.uuid())
      .max(50)
      .refine((ids) => new Set(ids).size === ids.length, 'each group once')
      .describe('Groups of your organisation; a key in any of them is entitled. Empty: no restriction.'),
  })
  .meta({ id: 'SetAccessGroups' });
export type SetAccessGroupsInput = z.infer<typeof setAccessGroupsSchema>;

export const incidentAccessSchema = z
  .object({
    incidentId: z.uuid(),
    groupIds: z.array(z.uuid()).describe('The incident is restricted to these groups; empty: not restricted.'),
    victims: z.array(z.object({ victimId: z.uuid(), groupIds: z.array(z.uuid()) })).describe('Protected victims restricted on their own.'),
  })
  .meta({ id: 'IncidentAccess' });
export type IncidentAccess = z.infer<typeof incidentAccessSchema>;
