import { VaultError, type VaultClient } from './vault.js';
import { type SecretReference, referencesIn } from './references.js';
import { SecretStoreError, type SecretStore } from './secret-store.js';

/** The values of one batch's references, and why each that failed did. Keyed by the reference text. */
export interface Resolution {
  values: Map<string, string>;
  failures: Map<string, string>;
}

/** An environment with its references replaced, or why it could not be. */
export type ResolvedEnv =
  { ok: true; env: Record<string, string>; secretNames: string[] } | { ok: false; reason: string };

/**
 * Resolves secret references (references.ts) to their values, at launch only: a batch's references
 * are resolved together, each Vault path read once and each Galley secret read in one query, in
 * parallel, and nothing is kept after the batch (no cache outlives a dispatch round). Failures
 * name the reference and why, never a value.
 */
export class SecretResolver {
  constructor(
    private readonly store: SecretStore,
    private readonly vault: VaultClient | null,
  ) {}

  /** Resolves every reference among `values`. */
  async resolve(values: Iterable<string>): Promise<Resolution> {
    const refs = referencesIn(values);
    const out: Resolution = { values: new Map(), failures: new Map() };
    if (refs.length === 0) return out;
    const galley = refs.filter((r): r is Extract<SecretReference, { kind: 'secret' }> => r.kind === 'secret');
    const vault = refs.filter((r): r is Extract<SecretReference, { kind: 'vault' }> => r.kind === 'vault');
    await Promise.all([this.resolveGalley(galley, out), this.resolveVault(vault, out)]);
    return out;
  }

  private async resolveGalley(refs: Extract<SecretReference, { kind: 'secret' }>[], out: Resolution) {
    if (refs.length === 0) return;
    // One query for the batch; when some fail, each is read alone to say which and why.
    try {
      const values = await this.store.read(refs.map((r) => r.name));
      for (const r of refs) out.values.set(r.text, values.get(r.name)!);
      return;
    } catch {
      // fall through: per-name reads below
    }
    await Promise.all(
      refs.map(async (r) => {
        try {
          out.values.set(r.text, (await this.store.read([r.name])).get(r.name)!);
        } catch (err) {
          out.failures.set(
            r.text,
            err instanceof SecretStoreError ? err.message : `${r.text}: it could not be read`,
          );
        }
      }),
    );
  }

  private async resolveVault(refs: Extract<SecretReference, { kind: 'vault' }>[], out: Resolution) {
    if (refs.length === 0) return;
    const vault = this.vault;
    if (!vault) {
      for (const r of refs) out.failures.set(r.text, `${r.text}: Vault is not configured (set --vault-addr)`);
      return;
    }
    const byPath = new Map<string, typeof refs>();
    for (const r of refs) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
    await Promise.all(
      [...byPath].map(async ([path, list]) => {
        let data: Record<string, unknown>;
        try {
          data = await vault.readKv(path, list[0]!.text);
        } catch (err) {
          const message = err instanceof VaultError ? err.message : `Vault read failed`;
          // The error names the first reference of the path; each gets its own name.
          for (const r of list) out.failures.set(r.text, message.replace(list[0]!.text, r.text));
          return;
        }
        for (const r of list) {
          const value = data[r.key];
          if (value === undefined || value === null)
            out.failures.set(
              r.text,
              `${r.text}: the Vault secret at ${path} has no key ${JSON.stringify(r.key)}`,
            );
          else out.values.set(r.text, typeof value === 'string' ? value : JSON.stringify(value));
        }
      }),
    );
  }
}

/** Replaces the references of `env` with their values from `resolution`; the first failure fails it. */
export function applyResolution(env: Record<string, string>, resolution: Resolution): ResolvedEnv {
  const out: Record<string, string> = {};
  const secretNames: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    const failed = resolution.failures.get(value);
    if (failed !== undefined) return { ok: false, reason: `env ${name}: ${failed}` };
    const resolved = resolution.values.get(value);
    if (resolved !== undefined) {
      out[name] = resolved;
      secretNames.push(name);
    } else out[name] = value;
  }
  return { ok: true, env: out, secretNames };
}
