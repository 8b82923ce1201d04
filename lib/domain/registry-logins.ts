// Credentials cascade uses for a registry when a task has none of its own for it (typically the
// task's push registry), as `cascade registry login` stores them.
import { normalizeRegistry } from '../images/reference';
import type { SecretStore } from './ports';

export interface RegistryLogin {
  username: string;
  password: string;
}

export class RegistryLogins {
  constructor(private readonly secrets: SecretStore) {}

  async login(host: string, login: RegistryLogin): Promise<void> {
    await this.secrets.put(secretName(host), JSON.stringify(login));
  }

  async get(host: string): Promise<RegistryLogin | undefined> {
    const value = await this.secrets.get(this.secrets.refFor(secretName(host)));
    return value === undefined ? undefined : (JSON.parse(value) as RegistryLogin);
  }

  /** Where the login for `host` is kept, when there is one: for a build that reads it itself. */
  async ref(host: string): Promise<string | undefined> {
    return (await this.get(host)) ? this.secrets.refFor(secretName(host)) : undefined;
  }
}

/** One secret per registry, however its host is spelled (`Index.Docker.io` is `docker.io`). */
function secretName(host: string): string {
  return `registry-login/${normalizeRegistry(host)}`;
}
