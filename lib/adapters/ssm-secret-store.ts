// Secrets on AWS: one SecureString parameter per secret under the installation's prefix. The
// reference kept in records is the parameter name, which is also what CodeBuild's
// PARAMETER_STORE environment variables take, so builds read secrets without cascade passing them.
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { ValidationError } from '../domain/errors';
import type { SecretStore } from '../domain/ports';
import { errorName, retryableIfTransient } from '../aws/sdk-errors';

export interface SsmSecretStoreOptions {
  /** Parameter path every secret goes under, e.g. `/cascade/prod`. */
  prefix: string;
  client?: SSMClient;
  /** A customer-managed KMS key; the account's `aws/ssm` key when absent. */
  kmsKeyId?: string;
}

// SSM limits: names of letters, digits and `_.-` in at most 15 `/`-separated levels, 1011 characters.
const MAX_NAME_LENGTH = 1011;
const MAX_LEVELS = 15;
const PLAIN = /[A-Za-z0-9.-]/;

export class SsmSecretStore implements SecretStore {
  private readonly client: SSMClient;
  private readonly prefix: string;

  constructor(private readonly options: SsmSecretStoreOptions) {
    if (!/^(?:\/[A-Za-z0-9_.-]+)+$/.test(options.prefix)) {
      throw new ValidationError(`secret prefix "${options.prefix}" must be an SSM path such as /cascade/prod`, 'prefix');
    }
    this.client = options.client ?? new SSMClient({});
    this.prefix = options.prefix;
  }

  async put(name: string, value: string): Promise<string> {
    const ref = this.refFor(name);
    try {
      await this.client.send(
        new PutParameterCommand({
          Name: ref,
          Value: value,
          Type: 'SecureString',
          Overwrite: true,
          ...(this.options.kmsKeyId !== undefined && { KeyId: this.options.kmsKeyId }),
        }),
      );
    } catch (error) {
      // SSM's messages never echo the value, but say nothing of it here either way.
      if (errorName(error) === 'ValidationException' || errorName(error) === 'ParameterMaxVersionLimitExceeded') {
        throw new ValidationError(`the secret "${name}" could not be stored: ${(error as Error).message}`, 'secret');
      }
      throw retryableIfTransient(error, `storing the secret "${name}"`);
    }
    return ref;
  }

  async get(ref: string): Promise<string | undefined> {
    this.checkRef(ref);
    try {
      const result = await this.client.send(new GetParameterCommand({ Name: ref, WithDecryption: true }));
      return result.Parameter?.Value;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw retryableIfTransient(error, `reading the secret ${ref}`);
    }
  }

  async delete(ref: string): Promise<void> {
    this.checkRef(ref);
    try {
      await this.client.send(new DeleteParameterCommand({ Name: ref }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw retryableIfTransient(error, `deleting the secret ${ref}`);
    }
  }

  /**
   * `task/hello/127.0.0.1:5001` becomes `<prefix>/task/hello/127.0.0.1_3A5001`: every character
   * SSM refuses is `_` and its UTF-8 bytes in hex, `_` itself is `__`, so distinct names never
   * share a parameter.
   */
  refFor(name: string): string {
    const segments = name.split('/');
    if (name.length === 0 || segments.some((s) => s.length === 0)) {
      throw new ValidationError(`secret name "${name}" must be non-empty parts separated by single "/"`, 'name');
    }
    const ref = `${this.prefix}/${segments.map(encodeSegment).join('/')}`;
    if (ref.split('/').length - 1 > MAX_LEVELS || ref.length > MAX_NAME_LENGTH) {
      throw new ValidationError(`secret name "${name}" is too long or too deep for an SSM parameter`, 'name');
    }
    return ref;
  }

  /** Records are trusted, but a reference outside the prefix must never reach another parameter. */
  private checkRef(ref: string): void {
    if (!ref.startsWith(`${this.prefix}/`) || ref.length === this.prefix.length + 1) {
      throw new ValidationError(`secret reference "${ref}" is not under ${this.prefix}/`, 'secretRef');
    }
  }
}

function encodeSegment(segment: string): string {
  let out = '';
  for (const char of segment) {
    if (char === '_') out += '__';
    else if (PLAIN.test(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function isNotFound(error: unknown): boolean {
  return error instanceof ParameterNotFound || errorName(error) === 'ParameterNotFound';
}
