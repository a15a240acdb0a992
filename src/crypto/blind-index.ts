import { createHmac } from 'node:crypto';
import { blindIndexKey } from './keyring.ts';

/**
 * Blind index: HMAC-SHA-256 under the blind-index key (data_keys, wrapped by the KEK like the data
 * keys, so changing the KEK does not change these), truncated to 128 bits, base64url. Equal inputs
 * give equal tokens, so an encrypted name can still be found by an exact (normalised) form, and
 * nothing else about it: no prefix, substring or similarity. The kind ("name", "skeleton",
 * "word") is part of the input, so tokens of one kind never match another.
 */
export function blindToken(kind: string, normalised: string): string {
  return createHmac('sha256', blindIndexKey()).update(`${kind}\u0000${normalised}`, 'utf8').digest().subarray(0, 16).toString('base64url');
}
