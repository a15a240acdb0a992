import { z } from 'zod';
import { isStorableText, UNSTORABLE_TEXT_DETAIL } from '../storable-text.ts';
import { countryCodeSchema } from './country.ts';
import { incidentFilterShape } from './incident-filters.ts';
import { incidentDateInputSchema, incidentDateSchema, isRealDay } from './incident-date.ts';
import {
  actorTypes,
  attackTypes,
  attributions,
  coordinatePrecisions,
  deathTypes,
  employments,
  genders,
  judicialOutcomes,
  localities,
  motives,
  sourceKinds,
  verificationStatuses,
  victimOutcomes,
  victimRoles,
  visibilities,
} from './taxonomies.ts';

/**
 * The one definition of what an incident looks like on the wire. Request validation, the
 * TypeScript types and /openapi.json all come from here. Three output shapes exist:
 * full (the owning organisation), research (researchers) and public (everyone else); the
 * last two are allow-lists, so a field added to the full shape never leaks by default.
 */
// The storable-text check matters for CSV imports, whose rows are checked by these schemas alone.
/** `required`: the message when the field is missing altogether (zod's own names the type expected). */
const text = (max: number, required?: string) =>
  z
    .string(required ? { error: (issue) => (issue.input === undefined ? required : undefined) } : undefined)
    .trim()
    .min(1, 'must not be empty')
    .max(max)
    .refine(isStorableText, UNSTORABLE_TEXT_DETAIL);
const optionalText = (max: number) => text(max).nullish();
const enumOf = <T extends { codes: [string, ...string[]] }>(taxonomy: T) => z.enum(taxonomy.codes);
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'use YYYY-MM-DD')
  .refine(isRealDay, 'this day does not exist in the calendar');
const childId = z.uuid().optional().describe('Send the id of an existing item to keep it; omit it to add a new one.');

export const victimInputSchema = z.strictObject({
  id: childId,
  name: optionalText(300),
  nameOriginal: optionalText(300).describe('Name in the original script, e.g. Arabic.'),
  aliases: z.array(text(300)).max(20).default([]),
  role: enumOf(victimRoles).nullish(),
  gender: enumOf(genders).nullish(),
  nationality: countryCodeSchema.nullish(),
  outlet: optionalText(300).describe('Outlet or employer.'),
  locality: enumOf(localities).nullish(),
  employment: enumOf(employments).nullish(),
  outcome: enumOf(victimOutcomes).nullish(),
  protected: z.boolean().default(false).describe("A protected victim's identity is shown only to the owning organisation."),
});

export const perpetratorClaimInputSchema = z.strictObject({
  id: childId,
  actorName: text(300).describe('Who is claimed or suspected, e.g. "Islamic State".'),
  actorType: enumOf(actorTypes),
  attribution: enumOf(attributions).describe('Who makes the claim.'),
  attributedBy: optionalText(300).describe('The person or body making the claim, if named.'),
  statement: optionalText(5000),
});

export const sourceInputSchema = z
  .strictObject({
    id: childId,
    url: z
      .url({ protocol: /^https?$/, message: 'use an http(s) URL' })
      .max(2000)
      .nullish(),
    publisher: optionalText(300),
    title: optionalText(1000),
    publishedOn: day.nullish(),
    kind: enumOf(sourceKinds),
    public: z.boolean().default(false).describe('Private sources are never shown outside the owning organisation.'),
  })
  .refine((source) => source.url || source.title, { message: 'give a url or a title', path: ['title'] });

const coordinatesSchema = z.strictObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  precision: enumOf(coordinatePrecisions),
});

export const locationInputSchema = z.strictObject({
  country: countryCodeSchema,
  region: optionalText(200),
  city: optionalText(200),
  coordinates: coordinatesSchema.nullish(),
});

/** A type of death describes a killing: an incident without one has none. */
export const DEATH_TYPE_NEEDS_KILLING = 'a type of death needs "killing" among the attack types';
export const deathTypeFits = (incident: { deathType?: string | null | undefined; attackTypes: readonly string[] }) =>
  !incident.deathType || incident.attackTypes.includes('killing');

const incidentFields = {
  title: text(500),
  description: optionalText(20_000),
  internalNotes: optionalText(20_000).describe('Never shown outside the owning organisation.'),
  date: incidentDateInputSchema,
  location: locationInputSchema,
  attackTypes: z
    .array(enumOf(attackTypes))
    .min(1, 'give at least one attack type')
    .max(20)
    .refine((types) => new Set(types).size === types.length, 'list each attack type once'),
  motive: enumOf(motives).nullish(),
  judicialOutcome: enumOf(judicialOutcomes).nullish(),
  deathType: enumOf(deathTypes)
    .nullish()
    .describe("How the victims died (CPJ's type of death); only for incidents whose attack types include a killing."),
  victims: z.array(victimInputSchema).max(200),
  perpetratorClaims: z.array(perpetratorClaimInputSchema).max(50),
  sources: z.array(sourceInputSchema).max(100),
};

export const createIncidentSchema = z
  .strictObject({
    ...incidentFields,
    victims: incidentFields.victims.default([]),
    perpetratorClaims: incidentFields.perpetratorClaims.default([]),
    sources: incidentFields.sources.default([]),
  })
  .refine((incident) => deathTypeFits(incident), { message: DEATH_TYPE_NEEDS_KILLING, path: ['deathType'] })
  .meta({ id: 'CreateIncident' });

export const updateIncidentSchema = z
  .strictObject({
    ...Object.fromEntries(Object.entries(incidentFields).map(([key, schema]) => [key, schema.optional()])),
    version: z.int().min(1).optional().describe('The version you read; or send it as If-Match: "<version>".'),
  } as { [K in keyof typeof incidentFields]: z.ZodOptional<(typeof incidentFields)[K]> } & {
    version: z.ZodOptional<z.ZodInt>;
  })
  // Sent together, checked here; a type of death sent alone is checked against the stored attack types (incident.service.ts).
  .refine((change) => !change.attackTypes || deathTypeFits({ ...change, attackTypes: change.attackTypes }), {
    message: DEATH_TYPE_NEEDS_KILLING,
    path: ['deathType'],
  })
  .meta({
    id: 'UpdateIncident',
    description: 'Only the fields sent change. victims, perpetratorClaims and sources are replaced as a whole.',
  });

export const verificationChangeSchema = z
  .strictObject({
    status: enumOf(verificationStatuses),
    note: text(5000).describe('Why the status changes; kept in the history.'),
    version: z.int().min(1).optional(),
  })
  .meta({ id: 'VerificationChange' });

export const deleteIncidentSchema = z
  .strictObject({
    reason: text(2000, 'a reason is required').describe('Why the incident is deleted; kept in the audit trail.'),
    version: z.int().min(1).optional(),
  })
  .meta({ id: 'DeleteIncident' });

export const versionOnlySchema = z.strictObject({ version: z.int().min(1).optional() }).default({});

export const incidentIdParamsSchema = z.object({ id: z.uuid('not an incident id') });

export const listIncidentsQuerySchema = z.strictObject({
  ...incidentFilterShape,
  sort: z
    .enum(['-date', 'date', '-updated', 'updated', 'relevance'])
    .default('-date')
    .describe('-date (default): newest first by the earliest possible date. relevance needs q.'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional().describe('nextCursor from the previous page.'),
  includeTotal: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(false)
    .describe('Also count all matching incidents (costs one more query).'),
});
export type ListIncidentsQuery = z.infer<typeof listIncidentsQuerySchema>;

export type CreateIncidentInput = z.infer<typeof createIncidentSchema>;
export type UpdateIncidentInput = z.infer<typeof updateIncidentSchema>;
export type VictimInput = z.infer<typeof victimInputSchema>;
export type PerpetratorClaimInput = z.infer<typeof perpetratorClaimInputSchema>;
export type SourceInput = z.infer<typeof sourceInputSchema>;

// ---------------------------------------------------------------- output shapes

const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

export const victimSchema = z.object({
  id: z.uuid(),
  name: nullable(z.string()),
  nameOriginal: nullable(z.string()),
  aliases: z.array(z.string()),
  role: nullable(enumOf(victimRoles)),
  gender: nullable(enumOf(genders)),
  nationality: nullable(z.string()),
  outlet: nullable(z.string()),
  locality: nullable(enumOf(localities)),
  employment: nullable(enumOf(employments)),
  outcome: nullable(enumOf(victimOutcomes)),
  protected: z.boolean(),
});

export const perpetratorClaimSchema = z.object({
  id: z.uuid(),
  actorName: z.string(),
  actorType: enumOf(actorTypes),
  attribution: enumOf(attributions),
  attributedBy: nullable(z.string()),
  statement: nullable(z.string()),
});

export const sourceSchema = z.object({
  id: z.uuid(),
  url: nullable(z.string()),
  publisher: nullable(z.string()),
  title: nullable(z.string()),
  publishedOn: nullable(z.string()),
  kind: enumOf(sourceKinds),
  public: z.boolean(),
});

const locationSchema = z.object({
  country: z.string(),
  countryName: z.string().describe('The country in words (English), e.g. "Turkey", or "Yugoslavia" for YUCS.'),
  region: nullable(z.string()),
  city: nullable(z.string()),
  coordinates: nullable(coordinatesSchema),
});

export const incidentSchema = z
  .object({
    id: z.uuid(),
    organisation: z.object({ id: z.uuid(), name: z.string() }),
    title: z.string(),
    description: nullable(z.string()),
    internalNotes: nullable(z.string()),
    date: incidentDateSchema,
    location: locationSchema,
    attackTypes: z.array(enumOf(attackTypes)),
    verificationStatus: enumOf(verificationStatuses),
    motive: nullable(enumOf(motives)),
    judicialOutcome: nullable(enumOf(judicialOutcomes)),
    deathType: nullable(enumOf(deathTypes)),
    visibility: enumOf(visibilities),
    version: z.int(),
    victims: z.array(victimSchema),
    perpetratorClaims: z.array(perpetratorClaimSchema),
    sources: z.array(sourceSchema),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    publishedAt: nullable(z.iso.datetime()),
  })
  .meta({ id: 'Incident', description: 'Full record, for the owning organisation.' });

export type Incident = z.infer<typeof incidentSchema>;

/** What stays of a protected victim outside the owning organisation. */
export const WITHHELD_NAME = 'name withheld';
export const withheldVictimSchema = z.object({
  name: z.literal(WITHHELD_NAME),
  protected: z.literal(true),
  role: nullable(enumOf(victimRoles)),
  outcome: nullable(enumOf(victimOutcomes)),
});

export const publicVictimSchema = z.union([
  victimSchema.omit({ id: true, protected: true }).extend({ protected: z.literal(false) }),
  withheldVictimSchema,
]);

export const publicIncidentSchema = incidentSchema
  .pick({
    id: true,
    title: true,
    description: true,
    date: true,
    location: true,
    attackTypes: true,
    verificationStatus: true,
    motive: true,
    judicialOutcome: true,
    deathType: true,
    publishedAt: true,
    updatedAt: true,
  })
  .extend({
    organisation: z.object({ name: z.string() }),
    victims: z.array(publicVictimSchema),
    perpetratorClaims: z.array(perpetratorClaimSchema.omit({ id: true })),
    sources: z.array(sourceSchema.omit({ id: true, public: true })),
  })
  .meta({ id: 'PublicIncident', description: 'Published incident with confidential details removed.' });

export const researchIncidentSchema = publicIncidentSchema
  .extend({ visibility: enumOf(visibilities), version: z.int(), createdAt: z.iso.datetime() })
  .meta({
    id: 'ResearchIncident',
    description:
      "For researchers (their own organisation's drafts and those shared with them included) and for an organisation's members outside an incident's access groups: confidential details removed.",
  });

export type PublicIncident = z.infer<typeof publicIncidentSchema>;
export type ResearchIncident = z.infer<typeof researchIncidentSchema>;
