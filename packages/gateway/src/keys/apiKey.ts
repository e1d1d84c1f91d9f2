// API key material: generation, hashing and constant-time comparison. Keys are stored only as hashes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What every generated key starts with, so leaked keys are easy to find by scanners. */
export const KEY_PREFIX = 'tg-';

/** A new random key: `tg-` and 32 random bytes in base64url (256 bits). */
export function generateApiKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The SHA-256 of a key, lowercase hex: what the database keeps and looks keys up by. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Whether two hex digests are equal, in time independent of where they differ. Lookups go
 * by the digest of the whole presented key, so how much of a key an attacker got right
 * changes nothing in what is compared.
 */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
