/**
 * Who writes, as plain values. The audit log records them and knows nothing of keys or of how a
 * caller is authenticated and authorised (that is src/auth/, which builds on these).
 */
export const ROLES = ['admin', 'editor', 'reviewer', 'researcher'] as const;
export type Role = (typeof ROLES)[number];

/** A caller with an API key: acts for the key's organisation in the key's role. */
export interface KeyActor {
  kind: 'key';
  keyId: string;
  organisationId: string;
  role: Role;
}

/** The tools an operator runs outside the API; the audit log records them as `system:<name>`. */
export const SYSTEM_ACTOR_NAMES = ['import-cli', 'seed', 'keys-cli', 'bootstrap', 'webhook-worker'] as const;
export type SystemActorName = (typeof SYSTEM_ACTOR_NAMES)[number];

/**
 * A tool run by the operator, who holds the database anyway, so it needs no API key (and has
 * none: `keyId` is null, as in the audit record). To write an organisation's incidents it names
 * the organisation and the role it acts in, and that role is checked as a key's would be: the
 * import CLI acts as an editor, and as a reviewer to publish.
 */
export interface SystemActor {
  kind: 'system';
  name: SystemActorName;
  keyId: null;
  organisationId?: string | undefined;
  role?: Role | undefined;
}

/** A tool acting for one organisation in one role. */
export type SystemMemberActor = SystemActor & { organisationId: string; role: Role };

/** Acts for one organisation in one role: an API key, or a tool given both explicitly. */
export type MemberActor = KeyActor | SystemMemberActor;

/** Whoever may write: a key, or a tool run by the operator. */
export type WriteActor = KeyActor | SystemActor;

export function systemActor(name: SystemActorName): SystemActor;
export function systemActor(name: SystemActorName, acting: { organisationId: string; role: Role }): SystemMemberActor;
export function systemActor(name: SystemActorName, acting?: { organisationId: string; role: Role }): SystemActor {
  return { kind: 'system', name, keyId: null, ...acting };
}

/**
 * Who made a write and under which request: every service write takes one, and its audit
 * record names both. `requestId` is the X-Request-Id of an API request; a tool gives its own run
 * id, or null.
 */
export interface AuditContext {
  actor: WriteActor;
  requestId: string | null;
}

/** A write to an organisation's own data (incidents, imports): the actor acts for that organisation in a role. */
export interface WriteContext extends AuditContext {
  actor: MemberActor;
}
