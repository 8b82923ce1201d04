// Tests register the secrets they make, so the global teardown can prove no log line holds one.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export function rememberSecrets(...secrets: string[]): void {
  const dir = process.env.CASCADE_TEST_CAPTURE_DIR;
  if (!dir) return;
  appendFileSync(join(dir, 'secrets.txt'), secrets.map((s) => `${s}\n`).join(''));
}
