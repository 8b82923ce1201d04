// Local secret store: one JSON file readable only by the owner. Records keep `local:<name>`
// references; the values never leave this file except through get().
import { join } from 'node:path';
import { ValidationError } from '../domain/errors';
import type { SecretStore } from '../domain/ports';
import { readPrivateFile, writePrivateFile } from './private-file';

const REF_PREFIX = 'local:';
// Names are JSON keys, never paths: any visible ASCII will do (hosts like [::1]:5000 included).
const NAME_PATTERN = /^[\x21-\x7e]{1,256}$/;

export interface FileSecretStoreOptions {
  /** The installation's data directory; secrets go to `<dataDir>/secrets/secrets.json`. */
  dataDir: string;
}

type SecretFile = Record<string, string>;

export class FileSecretStore implements SecretStore {
  readonly directory: string;
  readonly file: string;
  // Read-modify-write cycles must not interleave, or a put could undo a concurrent one.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileSecretStoreOptions) {
    this.directory = join(options.dataDir, 'secrets');
    this.file = join(this.directory, 'secrets.json');
  }

  async put(name: string, value: string): Promise<string> {
    const ref = this.refFor(name);
    return this.serialised(async () => {
      const secrets = await this.load();
      secrets[name] = value;
      await this.save(secrets);
      return ref;
    });
  }

  refFor(name: string): string {
    if (!NAME_PATTERN.test(name)) {
      throw new ValidationError(`secret name "${name}" must be 1 to 256 visible ASCII characters, without spaces`, 'name');
    }
    return REF_PREFIX + name;
  }

  async get(ref: string): Promise<string | undefined> {
    const name = nameOf(ref);
    return this.serialised(async () => {
      const secrets = await this.load();
      return Object.hasOwn(secrets, name) ? secrets[name] : undefined;
    });
  }

  async delete(ref: string): Promise<void> {
    const name = nameOf(ref);
    return this.serialised(async () => {
      const secrets = await this.load();
      if (!Object.hasOwn(secrets, name)) return;
      delete secrets[name];
      await this.save(secrets);
    });
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async load(): Promise<SecretFile> {
    const text = await readPrivateFile(this.file);
    if (text === undefined) return Object.create(null) as SecretFile;
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`${this.file} is not a JSON object of secrets`);
    }
    const secrets = Object.create(null) as SecretFile;
    for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') secrets[key] = value;
    return secrets;
  }

  private save(secrets: SecretFile): Promise<void> {
    return writePrivateFile(this.file, JSON.stringify(secrets, null, 2) + '\n');
  }
}

function nameOf(ref: string): string {
  const name = ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : '';
  if (!NAME_PATTERN.test(name)) {
    throw new ValidationError(`secret reference "${ref}" is not a local secret (expected local:<name>)`, 'secretRef');
  }
  return name;
}
