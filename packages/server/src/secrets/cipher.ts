import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for Galley-stored secrets (node:crypto). Each value is encrypted with a fresh
 * 96-bit nonce and its secret's name as additional authenticated data, so a row copied to another
 * name, or any changed byte, fails to decrypt instead of answering something else.
 */

/** An encrypted value as stored: base64 nonce, base64 ciphertext‖tag, and the key's fingerprint. */
export interface Sealed {
  nonce: string;
  ciphertext: string;
  keyId: string;
}

const TAG_BYTES = 16;

/** The key's fingerprint: the first 16 hex digits of SHA-256 over a label and the key (not reversible). */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('galley-secrets-key\0').update(key).digest('hex').slice(0, 16);
}

export function seal(key: Buffer, name: string, value: string): Sealed {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { nonce: nonce.toString('base64'), ciphertext: body.toString('base64'), keyId: keyIdOf(key) };
}

/** The value; throws when the key, the name or any byte does not match what was sealed. */
export function open(key: Buffer, name: string, sealed: Sealed): string {
  const body = Buffer.from(sealed.ciphertext, 'base64');
  if (body.length < TAG_BYTES) throw new Error('the stored ciphertext is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.nonce, 'base64'));
  decipher.setAAD(Buffer.from(name, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(body.subarray(0, body.length - TAG_BYTES)),
    decipher.final(),
  ]).toString('utf8');
}

/**
 * A key file's 32 bytes: the file holds them as base64 or hex (surrounding whitespace ignored).
 * Throws naming the file and what is wrong, never the content.
 */
export function parseKey(text: string, path: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t)
    ? Buffer.from(t, 'hex')
    : /^[A-Za-z0-9+/]{43}=?$/.test(t)
      ? Buffer.from(t, 'base64')
      : null;
  if (!key || key.length !== 32)
    throw new Error(`${path}: a secrets key is 32 bytes written as 64 hex digits or 44 base64 characters`);
  return key;
}
