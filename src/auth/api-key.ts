import { createHash, randomBytes } from 'node:crypto';

/**
 * Keys look like `dl_<prefix>_<secret>`. Only a SHA-256 hash is stored: the key has 256 bits of
 * randomness, so a slow password hash would add latency without adding safety. The prefix is
 * stored in clear so operators can tell keys apart in listings and logs.
 */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(4).toString('hex');
  const key = `dl_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
