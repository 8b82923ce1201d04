// Tests register the secrets they make, so the global teardown can prove no log line holds one.
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export function rememberSecrets(...secrets: string[]): void {
  const dir = process.env.CASCADE_TEST_CAPTURE_DIR;
  if (!dir) return;
  appendFileSync(join(dir, 'secrets.txt'), secrets.map((s) => `${s}\n`).join(''));
}

/** A password or secret for a test's registry or webhook: 12 random bytes, base64url. */
export function newSecret(): string {
  return randomBytes(12).toString('base64url');
}
