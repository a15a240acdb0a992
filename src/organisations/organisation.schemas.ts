import { z } from 'zod';

export const createOrganisationSchema = z
  .strictObject({ name: z.string().trim().min(1, 'must not be empty').max(200) })
  .meta({ id: 'CreateOrganisation' });

export const organisationSchema = z.object({ id: z.uuid(), name: z.string(), createdAt: z.iso.datetime() }).meta({ id: 'Organisation' });
