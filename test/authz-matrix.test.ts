import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { insertApiKey, revokeApiKey } from '../src/auth/api-key.queries.ts';
import { generateApiKey } from '../src/auth/api-key.ts';
import type { Role } from '../src/auth/actor.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { createOrganisation, incidentBody, serviceWriter, type ModelIncident, type ServiceWriter } from './support/factories.ts';
import { appRoutes, openApiRoutes } from './support/route-table.ts';
import { useTestApp } from './support/test-app.ts';

/**
 * Who may do what: every route the app serves x every caller (anonymous, and each role of the
 * owning organisation and of another one; editors and reviewers of the owning organisation in
 * and outside an access group; researchers of a third organisation) x every state of the
 * incident it acts on (one of them restricted to that access group) x every setting of the
 * owner's draft sharing, against one table of expected outcomes. The route list comes from the
 * app's router, so a new route fails here until it has a row, and it must be in the OpenAPI
 * document too. Confidentiality of what a 200 contains is test/leak.test.ts.
 */

/** own: the owning organisation (its editors and reviewers in the access group); outsider: the owning organisation, outside the group. */
type Side = 'own' | 'other' | 'outsider' | 'third';
type Caller = 'anonymous' | `${Role}/${Side}`;
const CALLERS: Caller[] = [
  'anonymous',
  'admin/own',
  'admin/other',
  'researcher/own',
  'researcher/other',
  'researcher/third',
  'editor/own',
  'editor/other',
  'editor/outsider',
  'reviewer/own',
  'reviewer/other',
  'reviewer/outsider',
];

/**
 * Incident states, in the order of the cells below. A merged incident was merged into a published
 * one. The table writes five cells; the sixth, `restricted` (a draft restricted to the access
 * group), is the draft's cell for everyone but the outsiders, whose cell is the row's `outsider`.
 */
const STATES = ['draft', 'published', 'deleted', 'merged', 'mergedDraft', 'restricted'] as const;
type State = (typeof STATES)[number];
/** The states whose incident is a draft: another organisation's researchers see them only if shared with. */
const DRAFT_STATES: State[] = ['draft', 'mergedDraft', 'restricted'];

/** The owner's draft sharing, the third dimension: no one, the other organisation by name, all researchers. */
const SHARINGS = ['none', 'named', 'all'] as const;
type Sharing = (typeof SHARINGS)[number];
const sharedWith = (caller: Caller, sharing: Sharing) =>
  (caller === 'researcher/other' && sharing !== 'none') || (caller === 'researcher/third' && sharing === 'all');

/**
 * Expected outcomes. A row names a caller as `role/own`, `role/other`, or just `role` when the
 * side makes no difference ("own": the caller's organisation owns the incident, import or key).
 * Incident routes have one cell per state, in STATES order; a 200 from GET /v1/incidents/:id is
 * written as the view it returns (full, research or public); a 308 redirects to the survivor.
 */
type Row = Partial<Record<Caller | Role | 'outsider' | 'unshared' | 'member', string>>;
/** Writes to live incidents of one's own organisation; another organisation's answer 404, as if missing. */
const ownEditorsWrite = (done: string): Row => ({
  anonymous: '401 401 401 401 401',
  admin: '403 403 403 403 403',
  researcher: '403 403 403 403 403',
  reviewer: '403 403 403 403 403',
  'editor/own': `${done} ${done} 404 404 404`,
  'editor/other': '404 404 404 404 404',
  outsider: '403',
});
const OWN_REVIEWERS_WRITE: Row = {
  anonymous: '401 401 401 401 401',
  admin: '403 403 403 403 403',
  researcher: '403 403 403 403 403',
  editor: '403 403 403 403 403',
  'reviewer/own': '200 200 404 404 404',
  'reviewer/other': '404 404 404 404 404',
  outsider: '403',
};

/** An incident's access groups: the owning organisation's admins, on live incidents (merged ones are gone). */
const OWN_ADMINS_ACCESS: Row = {
  anonymous: '401 401 401 401 401',
  'admin/own': '200 200 404 404 404',
  'admin/other': '404 404 404 404 404',
  researcher: '403 403 403 403 403',
  editor: '403 403 403 403 403',
  reviewer: '403 403 403 403 403',
  outsider: '403',
};

const MATRIX: Record<string, Row> = {
  // ------------------------------------------------------------ public, whoever asks
  'GET /healthz': { anonymous: '200', admin: '200', researcher: '200', editor: '200', reviewer: '200' },
  'GET /readyz': { anonymous: '200', admin: '200', researcher: '200', editor: '200', reviewer: '200' },
  'GET /openapi.json': { anonymous: '200', admin: '200', researcher: '200', editor: '200', reviewer: '200' },
  'GET /docs': { anonymous: '200', admin: '200', researcher: '200', editor: '200', reviewer: '200' },
  'GET /v1/incidents': { anonymous: '200', admin: '200', researcher: '200', editor: '200', reviewer: '200' },
  'GET /v1/incidents/export': { anonymous: '200', admin: '200', researcher: '200', editor: '200', reviewer: '200' },
  'GET /v1/incidents/feed.atom': { anonymous: '200', admin: '200', researcher: '200', editor: '200', reviewer: '200' },
  'GET /v1/stats': { anonymous: '200', admin: '200', researcher: '200', editor: '200', reviewer: '200' },
  // ------------------------------------------------------------ incidents         draft    published deleted merged mergedDraft
  'GET /v1/incidents/:id': {
    anonymous: /*                                                                */ '404      public    404     308    404',
    admin: /*                                                                    */ '404      public    404     308    404',
    researcher: /*                                                               */ 'research research  404     308    308',
    'editor/own': /*                                                             */ 'full     full      404     308    308',
    'editor/other': /*                                                           */ '404      public    404     308    404',
    'reviewer/own': /*                                                           */ 'full     full      404     308    308',
    'reviewer/other': /*                                                         */ '404      public    404     308    404',
    outsider: 'research',
  },
  'POST /v1/incidents': { anonymous: '401', admin: '403', researcher: '403', editor: '201', reviewer: '403' },
  'PATCH /v1/incidents/:id': ownEditorsWrite('200'),
  'DELETE /v1/incidents/:id': ownEditorsWrite('204'),
  'POST /v1/incidents/:id/verification': OWN_REVIEWERS_WRITE,
  'POST /v1/incidents/:id/publish': OWN_REVIEWERS_WRITE,
  'POST /v1/incidents/:id/unpublish': OWN_REVIEWERS_WRITE,
  // A restricted incident is not merged away: the survivor would not carry its restriction.
  'POST /v1/incidents/:id/merge': { ...OWN_REVIEWERS_WRITE, member: '409' },
  // Verification history: the owner and researchers; reviewers' notes only for the owner (leak test).
  'GET /v1/incidents/:id/history': {
    anonymous: '404 401 404 404 404',
    admin: '404 403 404 404 404',
    researcher: '200 200 404 404 404',
    'editor/own': '200 200 404 404 404',
    'editor/other': '404 403 404 404 404',
    'reviewer/own': '200 200 404 404 404',
    'reviewer/other': '404 403 404 404 404',
    outsider: '200',
  },
  // The audit trail: the owner only, deleted and merged incidents included (it holds the reason).
  'GET /v1/incidents/:id/audit': {
    anonymous: '404 401 404 404 404',
    admin: '404 403 404 404 404',
    researcher: '403 403 404 404 404',
    'editor/own': '200 200 200 200 200',
    'editor/other': '404 403 404 404 404',
    'reviewer/own': '200 200 200 200 200',
    'reviewer/other': '404 403 404 404 404',
    outsider: '403',
    unshared: '404 403 404 404 404', // a draft not shared with the researcher is missing to it
  },
  'GET /v1/incidents/:id/duplicates': {
    anonymous: '404 200 404 404 404',
    admin: '404 200 404 404 404',
    researcher: '200 200 404 404 404',
    'editor/own': '200 200 404 404 404',
    'editor/other': '404 200 404 404 404',
    'reviewer/own': '200 200 404 404 404',
    'reviewer/other': '404 200 404 404 404',
    outsider: '200',
  },
  // ------------------------------------------------------------ imports (own: the import's organisation)
  'POST /v1/imports': { anonymous: '401', admin: '403', researcher: '403', editor: '200', reviewer: '403' },
  'GET /v1/imports': { anonymous: '401', admin: '403', researcher: '403', editor: '200', reviewer: '200' },
  'GET /v1/imports/:id': {
    anonymous: '401',
    admin: '403',
    researcher: '403',
    'editor/own': '200',
    'editor/other': '404',
    'reviewer/own': '200',
    'reviewer/other': '404',
  },
  'POST /v1/imports/:id/publish': {
    anonymous: '401',
    admin: '403',
    researcher: '403',
    editor: '403',
    'reviewer/own': '200',
    'reviewer/other': '404',
  },
  // ------------------------------------------------------------ instance administration
  'GET /v1/organisations': { anonymous: '401', admin: '200', researcher: '403', editor: '403', reviewer: '403' },
  'POST /v1/organisations': { anonymous: '401', admin: '201', researcher: '403', editor: '403', reviewer: '403' },
  // ------------------------------------------------------------ sharing and access groups: the owning organisation's admins
  'GET /v1/organisations/:id/sharing': {
    anonymous: '401',
    'admin/own': '200',
    'admin/other': '403',
    researcher: '403',
    editor: '403',
    reviewer: '403',
  },
  'PUT /v1/organisations/:id/sharing': {
    anonymous: '401',
    'admin/own': '200',
    'admin/other': '403',
    researcher: '403',
    editor: '403',
    reviewer: '403',
  },
  // Every admin manages their own organisation's groups; the target is a group of the owning organisation.
  'GET /v1/access-groups': { anonymous: '401', admin: '200', researcher: '403', editor: '403', reviewer: '403' },
  'POST /v1/access-groups': { anonymous: '401', admin: '201', researcher: '403', editor: '403', reviewer: '403' },
  'PATCH /v1/access-groups/:id': {
    anonymous: '401',
    'admin/own': '200',
    'admin/other': '404',
    researcher: '403',
    editor: '403',
    reviewer: '403',
  },
  'DELETE /v1/access-groups/:id': {
    anonymous: '401',
    'admin/own': '204',
    'admin/other': '404',
    researcher: '403',
    editor: '403',
    reviewer: '403',
  },
  'PUT /v1/access-groups/:id/members/:keyId': {
    anonymous: '401',
    'admin/own': '200',
    'admin/other': '404',
    researcher: '403',
    editor: '403',
    reviewer: '403',
  },
  'DELETE /v1/access-groups/:id/members/:keyId': {
    anonymous: '401',
    'admin/own': '200',
    'admin/other': '404',
    researcher: '403',
    editor: '403',
    reviewer: '403',
  },
  'GET /v1/incidents/:id/access-groups': OWN_ADMINS_ACCESS,
  'PUT /v1/incidents/:id/access-groups': OWN_ADMINS_ACCESS,
  'PUT /v1/incidents/:id/victims/:victimId/access-groups': OWN_ADMINS_ACCESS,
  'GET /v1/keys': { anonymous: '401', admin: '200', researcher: '403', editor: '403', reviewer: '403' },
  'POST /v1/keys': { anonymous: '401', admin: '201', researcher: '403', editor: '403', reviewer: '403' },
  'DELETE /v1/keys/:id': { anonymous: '401', admin: '204', researcher: '403', editor: '403', reviewer: '403' },
  'POST /v1/keys/:id/rotate': { anonymous: '401', admin: '201', researcher: '403', editor: '403', reviewer: '403' },
  // The audit log: each admin sees only its own organisation's records (test/audit-chain.test.ts).
  'GET /v1/audit': { anonymous: '401', admin: '200', researcher: '403', editor: '403', reviewer: '403' },
  'GET /v1/audit/head': { anonymous: '401', admin: '200', researcher: '403', editor: '403', reviewer: '403' },
  // ------------------------------------------------------------ webhooks (the target: an endpoint of the editor/own key; any other key: 404)
  'GET /v1/webhooks': { anonymous: '401', admin: '403', researcher: '200', editor: '200', reviewer: '200' },
  'POST /v1/webhooks': { anonymous: '401', admin: '403', researcher: '201', editor: '201', reviewer: '201' },
  'GET /v1/webhooks/:id': webhookOwnerOnly('200'),
  'PATCH /v1/webhooks/:id': webhookOwnerOnly('200'),
  'DELETE /v1/webhooks/:id': webhookOwnerOnly('204'),
  'POST /v1/webhooks/:id/rotate-secret': webhookOwnerOnly('200'),
  'GET /v1/webhooks/:id/deliveries': webhookOwnerOnly('200'),
  'POST /v1/webhooks/:id/redeliver': webhookOwnerOnly('202'),
  'POST /v1/webhooks/:id/deliveries/:deliveryId/redeliver': webhookOwnerOnly('404'), // no delivery yet: the owner gets 404 for it
};

function webhookOwnerOnly(owner: string): Row {
  return {
    anonymous: '401',
    admin: '403',
    researcher: '404',
    'editor/own': owner,
    'editor/other': '404',
    'editor/outsider': '404',
    reviewer: '404',
  };
}

/** Routes that are not API operations, so not in the OpenAPI document: the document itself and its viewer. */
const NOT_IN_OPENAPI = ['GET /docs', 'GET /openapi.json'];

function expected(route: string, caller: Caller, sharing: Sharing = 'none'): string[] {
  const row = MATRIX[route]!;
  const [role, side] = caller.split('/') as [Role | 'anonymous', Side | undefined];
  // Outsiders of the group answer as their organisation's members, a third organisation's researchers as the other's.
  const like = side === 'outsider' ? `${role}/own` : side === 'third' ? `${role}/other` : undefined;
  const cell = row[caller] ?? row[role as Role] ?? (like ? row[like as Caller] : undefined);
  if (cell === undefined) throw new Error(`${route} has no expectation for ${caller}`);
  const cells = cell.trim().split(/\s+/);
  if (cells.length !== STATES.length - 1) return cells; // not an incident route
  // `member`: what the group's members get on the restricted incident where a draft would be allowed.
  const restricted = side === 'outsider' ? row.outsider : row.member && /^2/.test(cells[0]!) ? row.member : cells[0];
  if (restricted === undefined) throw new Error(`${route} has no expectation for outsiders of the access group`);
  const all = [...cells, restricted];
  // A researcher of another organisation not shared with sees drafts as an admin of another
  // organisation does, not at all (a refusal for the role stays), unless the row says (`unshared`).
  if (role === 'researcher' && side !== 'own' && !sharedWith(caller, sharing)) {
    if (row.unshared) {
      const unshared = row.unshared.trim().split(/\s+/);
      return [...unshared, unshared[0]!];
    }
    const hidden = expected(route, 'admin/other');
    return all.map((outcome, index) => (DRAFT_STATES.includes(STATES[index]!) && outcome !== '403' ? hidden[index]! : outcome));
  }
  return all;
}

// ---------------------------------------------------------------- how each route is called

const fixture = useTestApp({}, { actors: false });
let own: ServiceWriter;
const keys = {} as Record<Exclude<Caller, 'anonymous'>, string>;
const cpjCsv = readFileSync(new URL('./fixtures/imports/cpj-killed.csv', import.meta.url), 'utf8')
  .split('\n')
  .slice(0, 2)
  .join('\n');

interface Call {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
}
/** What a route acts on: an incident in some state, an import, a key, or nothing. */
type Target = { kind: 'incident'; incident: ModelIncident } | { kind: 'import' | 'key' | 'webhook' | 'group' | 'none'; id: string };
interface RouteSpec {
  target: 'incident' | 'import' | 'key' | 'webhook' | 'group' | 'none';
  call: (target: Target) => Call | Promise<Call>;
}

const json = (method: string, path: string, body: unknown): Call => ({
  method,
  path,
  body: JSON.stringify(body),
  contentType: 'application/json',
});
const idOf = (target: Target) => (target.kind === 'incident' ? target.incident.id : target.id);
const versionOf = (target: Target) => (target.kind === 'incident' ? target.incident.version : 1);
const get = (path: string): RouteSpec => ({ target: 'none', call: () => ({ method: 'GET', path }) });
const onIncident = (call: (target: Target & { kind: 'incident' }) => Call | Promise<Call>): RouteSpec => ({
  target: 'incident',
  call: (target) => call(target as Target & { kind: 'incident' }),
});

const SPECS: Record<string, RouteSpec> = {
  'GET /healthz': get('/healthz'),
  'GET /readyz': get('/readyz'),
  'GET /openapi.json': get('/openapi.json'),
  'GET /docs': get('/docs/'),
  'GET /v1/incidents': get('/v1/incidents'),
  'GET /v1/incidents/export': get('/v1/incidents/export?format=json'),
  'GET /v1/incidents/feed.atom': get('/v1/incidents/feed.atom?country=TR'),
  'GET /v1/stats': get('/v1/stats?groupBy=country'),
  'GET /v1/incidents/:id': onIncident(({ incident }) => ({ method: 'GET', path: `/v1/incidents/${incident.id}` })),
  'POST /v1/incidents': { target: 'none', call: () => json('POST', '/v1/incidents', incidentBody()) },
  'PATCH /v1/incidents/:id': onIncident((t) =>
    json('PATCH', `/v1/incidents/${t.incident.id}`, { title: 'Retitled by the matrix', version: versionOf(t) }),
  ),
  'DELETE /v1/incidents/:id': onIncident((t) => json('DELETE', `/v1/incidents/${t.incident.id}`, { reason: 'Entered twice' })),
  'POST /v1/incidents/:id/verification': onIncident((t) =>
    json('POST', `/v1/incidents/${t.incident.id}/verification`, { status: 'verified', note: 'Two sources' }),
  ),
  'POST /v1/incidents/:id/publish': onIncident((t) => json('POST', `/v1/incidents/${t.incident.id}/publish`, {})),
  'POST /v1/incidents/:id/unpublish': onIncident((t) => json('POST', `/v1/incidents/${t.incident.id}/unpublish`, {})),
  'POST /v1/incidents/:id/merge': onIncident((t) => json('POST', `/v1/incidents/${t.incident.id}/merge`, { into: survivor.id })),
  'GET /v1/incidents/:id/history': onIncident((t) => ({ method: 'GET', path: `/v1/incidents/${t.incident.id}/history` })),
  'GET /v1/incidents/:id/audit': onIncident((t) => ({ method: 'GET', path: `/v1/incidents/${t.incident.id}/audit` })),
  'GET /v1/incidents/:id/duplicates': onIncident((t) => ({ method: 'GET', path: `/v1/incidents/${t.incident.id}/duplicates` })),
  'POST /v1/imports': {
    target: 'none',
    call: () => ({ method: 'POST', path: '/v1/imports?format=cpj&dryRun=true', body: cpjCsv, contentType: 'text/csv' }),
  },
  'GET /v1/imports': get('/v1/imports'),
  'GET /v1/imports/:id': { target: 'import', call: (t) => ({ method: 'GET', path: `/v1/imports/${idOf(t)}` }) },
  'POST /v1/imports/:id/publish': { target: 'import', call: (t) => json('POST', `/v1/imports/${idOf(t)}/publish`, {}) },
  'GET /v1/organisations': get('/v1/organisations'),
  // The owner's own setting, sent again: an allowed call leaves the sharing dimension as it is.
  'GET /v1/organisations/:id/sharing': {
    target: 'none',
    call: () => ({ method: 'GET', path: `/v1/organisations/${own.organisationId}/sharing` }),
  },
  'PUT /v1/organisations/:id/sharing': {
    target: 'none',
    call: () => json('PUT', `/v1/organisations/${own.organisationId}/sharing`, sharingBody(currentSharing)),
  },
  'GET /v1/access-groups': get('/v1/access-groups'),
  'POST /v1/access-groups': { target: 'none', call: () => json('POST', '/v1/access-groups', { name: `Matrix group ${randomUUID()}` }) },
  'PATCH /v1/access-groups/:id': {
    target: 'group',
    call: (t) => json('PATCH', `/v1/access-groups/${idOf(t)}`, { name: `Renamed ${randomUUID()}` }),
  },
  'DELETE /v1/access-groups/:id': { target: 'group', call: (t) => ({ method: 'DELETE', path: `/v1/access-groups/${idOf(t)}` }) },
  'PUT /v1/access-groups/:id/members/:keyId': {
    target: 'group',
    call: (t) => ({ method: 'PUT', path: `/v1/access-groups/${idOf(t)}/members/${memberKeyIds[0]}` }),
  },
  'DELETE /v1/access-groups/:id/members/:keyId': {
    target: 'group',
    call: (t) => ({ method: 'DELETE', path: `/v1/access-groups/${idOf(t)}/members/${memberKeyIds[0]}` }),
  },
  'GET /v1/incidents/:id/access-groups': onIncident(({ incident }) => ({
    method: 'GET',
    path: `/v1/incidents/${incident.id}/access-groups`,
  })),
  'PUT /v1/incidents/:id/access-groups': onIncident(({ incident }) =>
    json('PUT', `/v1/incidents/${incident.id}/access-groups`, { groupIds: [groupId] }),
  ),
  'PUT /v1/incidents/:id/victims/:victimId/access-groups': onIncident(async ({ incident }) =>
    json('PUT', `/v1/incidents/${incident.id}/victims/${await protectedVictimOf(incident.id)}/access-groups`, { groupIds: [groupId] }),
  ),
  'POST /v1/organisations': { target: 'none', call: () => json('POST', '/v1/organisations', { name: `Matrix org ${randomUUID()}` }) },
  'GET /v1/keys': get('/v1/keys'),
  'POST /v1/keys': {
    target: 'none',
    call: () => json('POST', '/v1/keys', { organisationId: own.organisationId, name: 'matrix key', role: 'researcher' }),
  },
  'DELETE /v1/keys/:id': { target: 'key', call: (t) => ({ method: 'DELETE', path: `/v1/keys/${idOf(t)}` }) },
  'POST /v1/keys/:id/rotate': { target: 'key', call: (t) => json('POST', `/v1/keys/${idOf(t)}/rotate`, {}) },
  'GET /v1/audit': get('/v1/audit?entityType=incident&limit=5'),
  'GET /v1/audit/head': get('/v1/audit/head'),
  'GET /v1/webhooks': get('/v1/webhooks'),
  'POST /v1/webhooks': { target: 'none', call: () => json('POST', '/v1/webhooks', WEBHOOK) },
  'GET /v1/webhooks/:id': { target: 'webhook', call: (t) => ({ method: 'GET', path: `/v1/webhooks/${idOf(t)}` }) },
  'PATCH /v1/webhooks/:id': {
    target: 'webhook',
    call: (t) => json('PATCH', `/v1/webhooks/${idOf(t)}`, { description: 'changed by the matrix' }),
  },
  'DELETE /v1/webhooks/:id': { target: 'webhook', call: (t) => ({ method: 'DELETE', path: `/v1/webhooks/${idOf(t)}` }) },
  'POST /v1/webhooks/:id/rotate-secret': { target: 'webhook', call: (t) => json('POST', `/v1/webhooks/${idOf(t)}/rotate-secret`, {}) },
  'GET /v1/webhooks/:id/deliveries': { target: 'webhook', call: (t) => ({ method: 'GET', path: `/v1/webhooks/${idOf(t)}/deliveries` }) },
  'POST /v1/webhooks/:id/redeliver': {
    target: 'webhook',
    call: (t) => json('POST', `/v1/webhooks/${idOf(t)}/redeliver`, { since: '2020-01-01T00:00:00Z' }),
  },
  'POST /v1/webhooks/:id/deliveries/:deliveryId/redeliver': {
    target: 'webhook',
    call: (t) => json('POST', `/v1/webhooks/${idOf(t)}/deliveries/msg_${randomUUID()}/redeliver`, {}),
  },
};

/** A public address as a literal: registration needs no DNS here. */
const WEBHOOK = { url: 'https://93.184.215.14/dateline-hook', eventTypes: ['incident.published'] };

interface Raw {
  status: number;
  location: string | null;
  contentType: string;
  body: any;
}

/** One request, without following redirects (a 308 is an outcome here). */
async function send(caller: Caller, call: Call, headers: Record<string, string> = {}): Promise<Raw> {
  const response = await fetch(`${fixture.app.url}${call.path}`, {
    method: call.method,
    redirect: 'manual',
    headers: {
      ...headers,
      ...(caller === 'anonymous' ? {} : { authorization: `Bearer ${keys[caller]}` }),
      ...(call.contentType ? { 'content-type': call.contentType } : {}),
    },
    body: call.body,
  });
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  return {
    status: response.status,
    location: response.headers.get('location'),
    contentType,
    body: /json/.test(contentType) && text ? JSON.parse(text) : text,
  };
}

// ---------------------------------------------------------------- fixtures

const PUBLIC_KEYS = [
  'id',
  'organisation',
  'title',
  'description',
  'date',
  'location',
  'attackTypes',
  'verificationStatus',
  'motive',
  'judicialOutcome',
  'deathType',
  'victims',
  'perpetratorClaims',
  'sources',
  'publishedAt',
  'updatedAt',
];
const VIEW_KEYS = {
  public: PUBLIC_KEYS.toSorted(),
  research: [...PUBLIC_KEYS, 'visibility', 'version', 'createdAt'].toSorted(),
  full: [...PUBLIC_KEYS, 'visibility', 'version', 'createdAt', 'internalNotes'].toSorted(),
};

/** Which view an incident body is in, judged by its fields and how its protected victim looks. */
function viewOf(body: any): string {
  const view = Object.entries(VIEW_KEYS).find(([, fields]) => JSON.stringify(Object.keys(body).toSorted()) === JSON.stringify(fields))?.[0];
  const protectedVictim = body.victims?.find((victim: any) => victim.protected);
  const withheld =
    JSON.stringify(protectedVictim) === JSON.stringify({ name: 'name withheld', protected: true, role: 'activist', outcome: 'threatened' });
  if (view === 'full' && !withheld && body.organisation?.id) return 'full';
  if ((view === 'public' || view === 'research') && withheld && !body.organisation.id) return view;
  return 'unexpected shape';
}

/** A new incident of the owning organisation in the given state; merged ones go into `survivor`, a published one. */
async function incidentIn(state: State): Promise<Target> {
  const incident = await own.create(incidentBody(), { publish: !DRAFT_STATES.includes(state) });
  if (state === 'restricted') await restrict(incident.id);
  if (state === 'deleted') await own.remove(incident);
  if (state === 'merged' || state === 'mergedDraft') await own.merge(incident, survivor);
  return { kind: 'incident', incident };
}

let survivor: ModelIncident;
/** The access group: editor/own and reviewer/own are in it, the outsiders not. */
let groupId: string;
const memberKeyIds: string[] = [];
let currentSharing: Sharing = 'none';
let organisationIds: Record<'own' | 'other' | 'third', string>;
const sharingBody = (sharing: Sharing) =>
  ({
    none: { sharedWith: 'no-one' },
    named: { sharedWith: 'organisations', organisationIds: [organisationIds.other] },
    all: { sharedWith: 'all-researchers' },
  })[sharing];

async function restrict(incidentId: string) {
  const response = await send('admin/own', json('PUT', `/v1/incidents/${incidentId}/access-groups`, { groupIds: [groupId] }));
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

async function protectedVictimOf(incidentId: string) {
  const victim = await fixture.app.db
    .selectFrom('victims')
    .select('id')
    .where('incident_id', '=', incidentId)
    .where('protected', '=', true)
    .executeTakeFirst();
  return victim?.id ?? randomUUID(); // a deleted or merged incident's victims may be gone: the route answers 404 for it anyway
}

async function newGroupTarget(): Promise<Target> {
  const created = await send('admin/own', json('POST', '/v1/access-groups', { name: `Target group ${randomUUID()}` }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { kind: 'group', id: created.body.id };
}
let sharedIncidents: Record<State, Target>;
let sharedImport: string;

async function newWebhookTarget(): Promise<Target> {
  const created = await send('editor/own', json('POST', '/v1/webhooks', WEBHOOK));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { kind: 'webhook', id: created.body.id };
}

async function newKeyTarget(): Promise<Target> {
  return {
    kind: 'key',
    id: (await insertApiKey(fixture.app.db, { organisationId: own.organisationId, name: 'to revoke', role: 'researcher' })).id,
  };
}

beforeAll(async () => {
  const organisations = {
    own: await createOrganisation(fixture.app.db),
    other: await createOrganisation(fixture.app.db),
    third: await createOrganisation(fixture.app.db),
  };
  organisationIds = { own: organisations.own.id, other: organisations.other.id, third: organisations.third.id };
  for (const caller of CALLERS.filter((caller) => caller !== 'anonymous')) {
    const [role, side] = caller.split('/') as [Role, Side];
    const organisationId = organisations[side === 'outsider' ? 'own' : side].id;
    const key = await insertApiKey(fixture.app.db, { organisationId, name: caller, role });
    keys[caller as Exclude<Caller, 'anonymous'>] = key.key;
    if (caller === 'editor/own' || caller === 'reviewer/own') memberKeyIds.push(key.id);
  }
  own = await serviceWriter(fixture.app.db, organisations.own.id);
  groupId = idOf(await newGroupTarget());
  for (const keyId of memberKeyIds) {
    expect((await send('admin/own', { method: 'PUT', path: `/v1/access-groups/${groupId}/members/${keyId}` })).status).toBe(200);
  }
  survivor = await own.create(incidentBody(), { publish: true });
  sharedIncidents = {} as Record<State, Target>;
  for (const state of STATES) sharedIncidents[state] = await incidentIn(state);
  const imported = await send('editor/own', { method: 'POST', path: '/v1/imports?format=cpj', body: cpjCsv, contentType: 'text/csv' });
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  sharedImport = imported.body.id;
});

/** The incident's state as stored, to show that a refused write changed nothing. */
async function stored(id: string) {
  return fixture.app.db
    .selectFrom('incidents')
    .select(['version', 'visibility', 'verification_status', 'deleted_at', 'title'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** Rows a refused write without a target (create, import, organisation, key) must not have added. */
async function rowCounts() {
  const count = async (
    table:
      | 'incidents'
      | 'imports'
      | 'organisations'
      | 'api_keys'
      | 'audit_log'
      | 'access_groups'
      | 'access_group_members'
      | 'incident_access_groups',
  ) =>
    Number(
      (
        await fixture.app.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return Promise.all(
    (
      [
        'incidents',
        'imports',
        'organisations',
        'api_keys',
        'audit_log',
        'access_groups',
        'access_group_members',
        'incident_access_groups',
      ] as const
    ).map(count),
  );
}

/** The outcome as the table writes it. */
function outcome(route: string, response: Raw, _target: Target): string {
  if (response.status >= 400 && !/^application\/problem\+json/.test(response.contentType)) return `${response.status} without problem+json`;
  if (response.status === 308) {
    return response.location === `/v1/incidents/${survivor.id}` ? '308' : `308 to ${response.location}`;
  }
  if (route === 'GET /v1/incidents/:id' && response.status === 200) return viewOf(response.body);
  return String(response.status);
}

// ---------------------------------------------------------------- the matrix

describe('the route table', () => {
  it('has exactly one row per route the app serves', () => {
    const express = createApp({ db: fixture.app.db, config: loadConfig({ LOG_LEVEL: 'silent' }), logger: createLogger('silent') });
    expect(Object.keys(MATRIX).toSorted()).toEqual(appRoutes(express));
    expect(Object.keys(SPECS).toSorted()).toEqual(Object.keys(MATRIX).toSorted());
    for (const route of Object.keys(MATRIX)) for (const caller of CALLERS) expect(() => expected(route, caller)).not.toThrow();
  });

  it('matches the OpenAPI document, both ways', async () => {
    const document = await send('anonymous', { method: 'GET', path: '/openapi.json' });
    const documented = Object.keys(MATRIX)
      .filter((route) => !NOT_IN_OPENAPI.includes(route))
      .toSorted();
    expect(openApiRoutes(document.body)).toEqual(documented);
  });
});

/** Sets the owner's draft sharing through the API, as its admin would, for the blocks that follow. */
function withSharing(sharing: Sharing) {
  beforeAll(async () => {
    const response = await send('admin/own', json('PUT', `/v1/organisations/${own.organisationId}/sharing`, sharingBody(sharing)));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    currentSharing = sharing;
  });
}

describe.each(SHARINGS)('drafts shared with: %s', (sharing) => {
  withSharing(sharing);
  describe.each(Object.keys(MATRIX))('%s', (route) => {
    const spec = SPECS[route]!;
    it('answers every caller as the table says', async () => {
      const actual: Record<string, string> = {};
      const wanted: Record<string, string> = {};
      for (const caller of CALLERS) {
        const cells = expected(route, caller, sharing);
        const states = spec.target === 'incident' ? STATES : [undefined];
        expect(cells, `${route} ${caller}: one cell per state`).toHaveLength(states.length);
        const outcomes: string[] = [];
        for (const [index, state] of states.entries()) {
          // An allowed write uses up its target; a refused one must leave the shared target as it was.
          const write = !route.startsWith('GET ');
          const allowed = /^2/.test(cells[index]!);
          let target: Target = { kind: 'none', id: '' };
          if (spec.target === 'incident') target = write && allowed ? await incidentIn(state!) : sharedIncidents[state!];
          if (spec.target === 'import') target = { kind: 'import', id: sharedImport };
          if (spec.target === 'key') target = await newKeyTarget();
          if (spec.target === 'webhook') target = await newWebhookTarget();
          if (spec.target === 'group') target = await newGroupTarget();
          const before =
            write && !allowed ? (target.kind === 'incident' ? await stored(target.incident.id) : await rowCounts()) : undefined;
          const response = await send(caller, await spec.call(target));
          outcomes.push(outcome(route, response, target));
          if (before) {
            const after = target.kind === 'incident' ? await stored(target.incident.id) : await rowCounts();
            expect(after, `a refused ${route} by ${caller} (${state ?? 'no target'}) changed something`).toEqual(before);
          }
        }
        actual[caller] = outcomes.join(' ');
        wanted[caller] = cells.join(' ');
      }
      expect(actual).toEqual(wanted);
    });
  });

  it.each(CALLERS)('the list shows %s exactly the incidents GET by id shows, in the same view', async (caller) => {
    const listed = new Map<string, any>();
    let cursor: string | null = null;
    do {
      const response = await send(caller, {
        method: 'GET',
        path: `/v1/incidents?organisation=${own.organisationId}&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      });
      expect(response.status).toBe(200);
      for (const item of response.body.data) listed.set(item.id, item);
      cursor = response.body.nextCursor;
    } while (cursor);
    const cells = expected('GET /v1/incidents/:id', caller, sharing);
    const shown = STATES.map((state) => {
      const target = sharedIncidents[state] as Target & { kind: 'incident' };
      return listed.has(target.incident.id) ? viewOf(listed.get(target.incident.id)) : '-';
    });
    expect(shown).toEqual(cells.map((cell) => (/^\d+$/.test(cell) ? '-' : cell)));
  });
});

// ---------------------------------------------------------------- consequences of the table

describe('what the table implies', () => {
  it("answers for another organisation's draft exactly as for an incident that never existed", async () => {
    const draft = (sharedIncidents.draft as Target & { kind: 'incident' }).incident.id;
    const missing = randomUUID();
    for (const [method, suffix, body] of [
      ['GET', ''],
      ['GET', '/history'],
      ['GET', '/duplicates'],
      ['PATCH', '', { title: 'x', version: 1 }],
      ['POST', '/publish', {}],
    ] as const) {
      const call = (id: string) =>
        body ? json(method, `/v1/incidents/${id}${suffix}`, body) : { method, path: `/v1/incidents/${id}${suffix}` };
      const [hidden, absent] = [await send('editor/other', call(draft)), await send('editor/other', call(missing))];
      const comparable = (raw: Raw) => [raw.status, raw.body.type, raw.body.title, raw.body.detail];
      expect(comparable(hidden), `${method} ${suffix}`).toEqual(comparable(absent));
      if (method === 'GET')
        expect(comparable(await send('anonymous', call(draft)))).toEqual(comparable(await send('anonymous', call(missing))));
    }
  });
});

describe('a bad bearer key is refused, never downgraded to public access', () => {
  let revoked: string;
  beforeAll(async () => {
    const key = await insertApiKey(fixture.app.db, { organisationId: own.organisationId, name: 'soon revoked', role: 'editor' });
    await revokeApiKey(fixture.app.db, key.id);
    revoked = key.key;
  });
  const credentials: [string, () => string][] = [
    ['an unknown key', () => `Bearer ${generateApiKey().key}`],
    ['a revoked key', () => `Bearer ${revoked}`],
    ['a non-bearer Authorization header', () => `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['an empty bearer token', () => 'Bearer '],
  ];
  const calls: [string, () => Call][] = [
    ['the list', () => ({ method: 'GET', path: '/v1/incidents' })],
    [
      'a published incident',
      () => ({ method: 'GET', path: `/v1/incidents/${(sharedIncidents.published as Target & { kind: 'incident' }).incident.id}` }),
    ],
    ['the statistics', () => ({ method: 'GET', path: '/v1/stats' })],
    [
      'an incident write',
      () => json('POST', `/v1/incidents/${(sharedIncidents.draft as Target & { kind: 'incident' }).incident.id}/publish`, {}),
    ],
  ];
  it.each(credentials.flatMap(([credential, header]) => calls.map(([what, call]) => ({ credential, header, what, call }))))(
    '$credential gets 401 problem+json for $what',
    async ({ header, call }) => {
      const response = await send('anonymous', call(), { authorization: header() });
      expect(response.status).toBe(401);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body.type).toBe('/problems/unauthenticated');
    },
  );
});
