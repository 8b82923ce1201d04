// DigestResolver on the registry HTTP API: a manifest HEAD request (not counted as a pull on
// Docker Hub), with the dependent tasks' credentials first and cascade's own login after.
import { RegistryError } from '../domain/errors';
import type { DigestResolver, SecretStore } from '../domain/ports';
import type { RegistryLogins } from '../domain/registry-logins';
import type { RegistryCredential } from '../domain/types';
import { RegistryClient, type RegistryClientOptions } from '../images/registry-client';

export interface RegistryDigestResolverOptions {
  secrets: SecretStore;
  logins: RegistryLogins;
  insecureHosts?: string[];
  fetch?: RegistryClientOptions['fetch'];
}

export class RegistryDigestResolver implements DigestResolver {
  constructor(private readonly options: RegistryDigestResolverOptions) {}

  async resolve(ref: { registry: string; repository: string; tag: string }, credentials: RegistryCredential[]): Promise<string> {
    const candidates: Array<{ username: string; password: string } | undefined> = [];
    for (const credential of credentials) {
      if (credential.kind !== 'basic' || credential.loginServer !== ref.registry) continue;
      const password = await this.options.secrets.get(credential.secretRef);
      if (password !== undefined) candidates.push({ username: credential.username, password });
    }
    candidates.push(await this.options.logins.get(ref.registry));
    let lastError: unknown;
    for (const candidate of dedupe(candidates)) {
      const client = new RegistryClient({
        credentials: async () => candidate,
        insecureHosts: this.options.insecureHosts,
        ...(this.options.fetch && { fetch: this.options.fetch }),
      });
      try {
        return (await client.headManifestDigest(ref)).digest;
      } catch (error) {
        lastError = error;
        // Only a refusal is worth another credential; anything else is the answer.
        if (!(error instanceof RegistryError) || !/unauthorized|denied|forbidden/i.test(error.message)) throw error;
      }
    }
    throw lastError;
  }
}

function dedupe<T>(values: Array<T | undefined>): Array<T | undefined> {
  const seen = new Set<string>();
  const out: Array<T | undefined> = [];
  for (const value of values) {
    const key = JSON.stringify(value ?? null);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(value);
    }
  }
  return out;
}
