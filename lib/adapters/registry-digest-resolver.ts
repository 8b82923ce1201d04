// DigestResolver on the registry HTTP API: a manifest HEAD request (not counted as a pull on
// Docker Hub), with the dependent tasks' credentials first and cascade's own login after.
import { RegistryError, RegistryRateLimitedError } from '../domain/errors';
import type { DigestResolver, SecretStore, TagDigest } from '../domain/ports';
import type { RegistryLogins } from '../domain/registry-logins';
import type { RegistryCredential } from '../domain/types';
import { RegistryClient, type RegistryClientOptions, type RegistryCredentials } from '../images/registry-client';

export interface RegistryDigestResolverOptions {
  secrets: SecretStore;
  logins: RegistryLogins;
  insecureHosts?: string[];
  fetch?: RegistryClientOptions['fetch'];
}

type TagRef = { registry: string; repository: string; tag: string };

export class RegistryDigestResolver implements DigestResolver {
  constructor(private readonly options: RegistryDigestResolverOptions) {}

  async resolve(ref: TagRef, credentials: RegistryCredential[]): Promise<string> {
    return this.withCredentials(ref, credentials, async (client) => (await client.headManifestDigest(ref)).digest);
  }

  async resolveForPlatform(ref: TagRef, platform: string, credentials: RegistryCredential[], known?: TagDigest): Promise<TagDigest> {
    return this.withCredentials(ref, credentials, async (client) => {
      const { digest, platformDigest } = await client.tagDigest(ref, platform, known);
      return { digest, platformDigest };
    });
  }

  /** Tries `call` with each usable credential for the host in turn, then cascade's login. */
  private async withCredentials<T>(ref: TagRef, credentials: RegistryCredential[], call: (client: RegistryClient) => Promise<T>): Promise<T> {
    const candidates: Array<RegistryCredentials | undefined> = [];
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
        return await call(client);
      } catch (error) {
        lastError = error;
        // A 429 is the registry's answer to us, whoever we log in as: asking again only deepens it.
        if (error instanceof RegistryRateLimitedError) throw error;
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
