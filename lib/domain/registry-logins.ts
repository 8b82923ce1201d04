// Credentials cascade uses for a registry when a task has none of its own for it (typically the
// task's push registry), as `cascade registry login` stores them.
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
}

function secretName(host: string): string {
  return `registry-login/${host}`;
}
