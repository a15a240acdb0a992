import { openDocument, sealKeys, sealWhole } from '../crypto/sealed-document.ts';
import { sealedPlace } from '../crypto/sealed-value.ts';

/**
 * The one place where an audit record's `before` and `after` documents are turned into what is
 * stored, and back into what is read. Everything that writes them (the chain, src/audit/audit-chain.ts)
 * or reads them (the feeds and `npm run audit -- verify`) goes through these two functions.
 *
 * The chain's hash is computed over the documents as the service passed them (plaintext), never
 * over what is stored: encryption at rest will seal sensitive fields inside the stored documents
 * and re-seal them when the data key rotates, and the chain must survive both.
 */

/** The document as it is stored in audit_log.before/after: what is encrypted at rest is sealed (sealAuditParts). */
export function storedAuditDocument(document: unknown): unknown {
  return document == null ? null : sealAuditParts(document as Json);
}

/**
 * The document as the service wrote it, from what is stored. Sealed fields are opened here, so
 * verify hashes the plaintext the chain was computed over, and the feeds show it.
 */
export function readableAuditDocument(document: unknown): unknown {
  return document == null ? null : openDocument(document, AUDIT_PLACE);
}

/**
 * What encryption at rest covers inside a document (README, "Encryption at rest";
 * src/incidents/sealed-fields.ts): internal notes, and a protected victim's identifying fields,
 * wherever they appear (an incident's full view, a merge, an import). Everything else stays
 * readable to whoever holds the database, as it was.
 */
const AUDIT_PLACE = sealedPlace('audit_log', 'document', '*');
const PROTECTED_VICTIM_FIELDS = ['name', 'nameOriginal', 'aliases', 'outlet', 'nationality'] as const;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function sealAuditParts(document: Json): Json {
  if (Array.isArray(document)) return document.map(sealAuditParts);
  // Only plain JSON objects: a Date (serialised as a string later) and the like pass as they are.
  if (!document || typeof document !== 'object' || Object.getPrototypeOf(document) !== Object.prototype) return document;
  const parts = Object.fromEntries(
    Object.entries(document).map(([key, value]) => [
      key,
      key === 'internalNotes' && value !== null ? sealWhole(value, AUDIT_PLACE) : sealAuditParts(value),
    ]),
  );
  return parts.protected === true ? sealKeys(parts, PROTECTED_VICTIM_FIELDS, AUDIT_PLACE) : parts;
}
