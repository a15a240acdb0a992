import type { Transaction } from 'kysely';
import type { AuditContext } from '../audit/actor.ts';
import type { Database } from '../db/database.ts';

/**
 * What other areas do when a key is rotated, without auth knowing them (they import auth, never
 * the reverse). Things tied to a key's id, such as access-group memberships or webhook
 * endpoints, may follow it to the new key here. Each listener runs inside the rotation's
 * transaction, so what it writes commits or rolls back with the rotation. Registered by name:
 * registering twice changes nothing.
 */
export interface KeyRotated {
  oldKeyId: string;
  newKeyId: string;
  organisationId: string;
  /** When the old key stops working. */
  graceEndsAt: Date;
}

export type KeyRotatedListener = (trx: Transaction<Database>, context: AuditContext, rotated: KeyRotated) => Promise<void>;

const rotationListeners = new Map<string, KeyRotatedListener>();

/** Registers a listener; the answer unregisters it. */
export function onKeyRotated(name: string, listener: KeyRotatedListener): () => void {
  rotationListeners.set(name, listener);
  return () => rotationListeners.delete(name);
}

export async function announceKeyRotated(trx: Transaction<Database>, context: AuditContext, rotated: KeyRotated): Promise<void> {
  for (const listener of rotationListeners.values()) await listener(trx, context, rotated);
}
