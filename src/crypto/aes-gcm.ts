import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM from node:crypto: a random 96-bit nonce per value, a 128-bit tag, and associated
 * data that the tag covers without storing it (where the value belongs), so a value moved to
 * another row, column or table no longer opens.
 */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface Encrypted {
  nonce: Buffer;
  /** Ciphertext followed by the tag. */
  body: Buffer;
}

export function encrypt(key: Buffer, plaintext: Buffer, associatedData: string): Encrypted {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, body };
}

/** Throws when the key is wrong, the value was changed, or it belongs elsewhere (the associated data differs). */
export function decrypt(key: Buffer, { nonce, body }: Encrypted, associatedData: string): Buffer {
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw new Error('not an AES-GCM value');
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
}
