/**
 * What a key may be used for. A key with scopes may call only the routes of those scopes; a key
 * without (scopes null) keeps its role's full rights. Scopes only narrow: the route still checks
 * the role, so a researcher key with `incidents:write` can write nothing.
 */
export const SCOPES = [
  'incidents:read',
  'incidents:write',
  'duplicates',
  'stats',
  'export',
  'imports',
  'webhooks',
  'audit',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/** For the docs and the OpenAPI description: what each scope opens. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'incidents:read': 'read incidents, their history, audit trail and the Atom feed (GET /v1/incidents...)',
  'incidents:write': 'create, edit, delete, verify, publish and unpublish incidents',
  duplicates: 'list possible duplicates and merge incidents',
  stats: 'statistics (GET /v1/stats)',
  export: 'the full export (GET /v1/incidents/export)',
  imports: 'bulk imports (/v1/imports)',
  webhooks: 'webhook endpoints and their deliveries (/v1/webhooks)',
  audit: "the organisation's audit feed and its chain head (/v1/audit)",
  admin: 'organisations, their sharing, API keys and access groups (/v1/organisations, /v1/keys, /v1/access-groups)',
};

/**
 * Every route the app serves, in the notation of test/support/route-table.ts, and the scope it
 * needs; `null` for documents anyone may read whatever their key. The only place scopes are
 * tied to routes: test/keys-limits.test.ts fails when a served route has no row here.
 */
export const ROUTE_SCOPES: Record<string, Scope | null> = {
  'GET /healthz': null,
  'GET /readyz': null,
  'GET /openapi.json': null,
  'GET /docs': null,
  'GET /v1/incidents': 'incidents:read',
  'GET /v1/incidents/:id': 'incidents:read',
  'GET /v1/incidents/:id/history': 'incidents:read',
  'GET /v1/incidents/:id/audit': 'incidents:read',
  'GET /v1/incidents/feed.atom': 'incidents:read',
  'POST /v1/incidents': 'incidents:write',
  'PATCH /v1/incidents/:id': 'incidents:write',
  'DELETE /v1/incidents/:id': 'incidents:write',
  'POST /v1/incidents/:id/verification': 'incidents:write',
  'POST /v1/incidents/:id/publish': 'incidents:write',
  'POST /v1/incidents/:id/unpublish': 'incidents:write',
  'GET /v1/incidents/:id/duplicates': 'duplicates',
  'POST /v1/incidents/:id/merge': 'duplicates',
  'GET /v1/incidents/export': 'export',
  'GET /v1/stats': 'stats',
  'POST /v1/imports': 'imports',
  'GET /v1/imports': 'imports',
  'GET /v1/imports/:id': 'imports',
  'POST /v1/imports/:id/publish': 'imports',
  'GET /v1/webhooks': 'webhooks',
  'POST /v1/webhooks': 'webhooks',
  'GET /v1/webhooks/:id': 'webhooks',
  'PATCH /v1/webhooks/:id': 'webhooks',
  'DELETE /v1/webhooks/:id': 'webhooks',
  'POST /v1/webhooks/:id/rotate-secret': 'webhooks',
  'GET /v1/webhooks/:id/deliveries': 'webhooks',
  'POST /v1/webhooks/:id/redeliver': 'webhooks',
  'POST /v1/webhooks/:id/deliveries/:deliveryId/redeliver': 'webhooks',
  'GET /v1/audit': 'audit',
  'GET /v1/audit/head': 'audit',
  'GET /v1/organisations': 'admin',
  'GET /v1/organisations/:id/sharing': 'admin',
  'PUT /v1/organisations/:id/sharing': 'admin',
  'GET /v1/access-groups': 'admin',
  'POST /v1/access-groups': 'admin',
  'PATCH /v1/access-groups/:id': 'admin',
  'DELETE /v1/access-groups/:id': 'admin',
  'PUT /v1/access-groups/:id/members/:keyId': 'admin',
  'DELETE /v1/access-groups/:id/members/:keyId': 'admin',
  'GET /v1/incidents/:id/access-groups': 'admin',
  'PUT /v1/incidents/:id/access-groups': 'admin',
  'PUT /v1/incidents/:id/victims/:victimId/access-groups': 'admin',
  'POST /v1/organisations': 'admin',
  'GET /v1/keys': 'admin',
  'POST /v1/keys': 'admin',
  'DELETE /v1/keys/:id': 'admin',
  'POST /v1/keys/:id/rotate': 'admin',
};

interface CompiledRoute {
  method: string;
  pattern: RegExp;
  /** Literal segments win over parameters, as /v1/incidents/export over /v1/incidents/:id. */
  parameters: number;
  scope: Scope | null;
}

const compiled: CompiledRoute[] = Object.entries(ROUTE_SCOPES)
  .map(([route, scope]) => {
    const [method = '', path = ''] = route.split(' ');
    const source = path
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    // As Express matches: case-insensitive, with or without a trailing slash.
    return { method, pattern: new RegExp(`^${source}/?$`, 'i'), parameters: (path.match(/:/g) ?? []).length, scope };
  })
  .sort((a, b) => a.parameters - b.parameters);

/**
 * The scope a request needs: a Scope, null when none is needed, or undefined for a path no row
 * covers (no such route). HEAD is answered by GET routes, so it needs what GET needs.
 */
export function scopeFor(method: string, path: string): Scope | null | undefined {
  const wanted = method === 'HEAD' ? 'GET' : method;
  return compiled.find((route) => route.method === wanted && route.pattern.test(path))?.scope;
}
