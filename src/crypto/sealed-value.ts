import { decrypt, encrypt } from './aes-gcm.ts';
import { activeDataKey, dataKey } from './keyring.ts';

/**
 * A value encrypted by the application, as stored: `dlenc1.<data key id>.<nonce>.<ciphertext+tag>`
 * (base64url). "dlenc1" is the format version; the key id says which data key opens it, so a
 * rotation can re-encrypt row by row while both keys are in use. The associated data names the
 * place the value belongs (`<table>/<column>/<row id>`): a ciphertext copied to another row does
 * not open there.
 */
export const SEALED_PREFIX = 'dlenc1.';

export const isSealed = (value: unknown): value is string => typeof value === 'string' && value.startsWith(SEALED_PREFIX);

export const sealedPlace = (table: string, column: string, rowId: string) => `${table}/${column}/${rowId}`;

export function seal(plaintext: string, place: string): string {
  const { id, key } = activeDataKey();
  const { nonce, body } = encrypt(key, Buffer.from(plaintext, 'utf8'), place);
  return `${SEALED_PREFIX}${id}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
}

/** The id of the data key a sealed value was sealed with. */
export function sealedKeyId(value: string): number {
  return Number(value.slice(SEALED_PREFIX.length).split('.')[0]);
}

export function unseal(value: string, place: string): string {
  const [id, nonce = '', body = ''] = value.slice(SEALED_PREFIX.length).split('.');
  try {
    return decrypt(dataKey(Number(id)), { nonce: Buffer.from(nonce, 'base64url'), body: Buffer.from(body, 'base64url') }, place).toString(
      'utf8',
    );
  } catch (error) {
    if (error instanceof Error && error.name === 'EncryptionKeyError') throw error;
    throw new Error(`The encrypted value of ${place} does not open: it was changed, or copied from another row.`, { cause: error });
  }
}

/** Seals a JSON value; null stays null (nothing to hide, and "absent" is not a secret). */
export const sealJson = (value: unknown, place: string): string | null => (value == null ? null : seal(JSON.stringify(value), place));
export const unsealJson = <T>(value: string | null, place: string): T | null =>
  value == null ? null : (JSON.parse(unseal(value, place)) as T);

/** Re-seals a value under the active data key, for a rotation: the same place, a new key and nonce. */
export const reseal = (value: string, place: string) => seal(unseal(value, place), place);
