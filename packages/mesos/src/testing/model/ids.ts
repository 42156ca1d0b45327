import { randomUUID } from 'node:crypto';

/**
 * Identifiers in the shapes Mesos issues: master ids are UUIDs; framework ids are
 * `<master id>-NNNN`; offer ids `<master id>-O<n>`; agent ids `<master id>-S<n>`; stream ids and
 * container ids are UUIDs; status update uuids are 16 random bytes (v4 UUID) in base64.
 */

/** A fresh v4 UUID in its text form. */
export function uuidText(): string {
  return randomUUID();
}

/** A fresh v4 UUID as 16 raw bytes, base64-encoded (the form of `TaskStatus.uuid`). */
export function uuidBase64(): string {
  return Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');
}

/** True when `text` is standard base64 of exactly 16 bytes (what Mesos accepts as a uuid). */
export function isUuidBytes(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return false;
  return Buffer.from(compact, 'base64').length === 16;
}

/** True when `text` is valid standard base64 (whitespace tolerated), as Mesos' bytes parser requires. */
export function isBase64(text: string): boolean {
  const compact = text.replace(/\s+/g, '');
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
}

/** `<master id>-NNNN`: the framework id format, zero-padded to four digits. */
export function frameworkIdFor(masterId: string, sequence: number): string {
  return `${masterId}-${String(sequence).padStart(4, '0')}`;
}

/** IPv4 dotted quad as Mesos' deprecated `MasterInfo.ip`: network-order bytes read little-endian. */
export function packedIpv4(address: string): number {
  const octets = address.split('.').map(Number);
  return (
    (((octets[3] ?? 0) << 24) >>> 0) + ((octets[2] ?? 0) << 16) + ((octets[1] ?? 0) << 8) + (octets[0] ?? 0)
  );
}
