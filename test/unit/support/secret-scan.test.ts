// The suite-wide secret scan (test/global-teardown.cjs) is itself a test: here it runs on a
// capture folder of its own, with and without a leak.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const scan = require('../../global-teardown.cjs') as () => Promise<void>;

async function scanCapture(lines: string[], secrets: string[]): Promise<{ dir: string; outcome: Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-scan-test-'));
  writeFileSync(join(dir, 'console-1.log'), lines.join('\n'));
  writeFileSync(join(dir, 'secrets.txt'), secrets.map((s) => `${s}\n`).join(''));
  const saved = process.env.CASCADE_TEST_CAPTURE_DIR;
  process.env.CASCADE_TEST_CAPTURE_DIR = dir;
  try {
    const outcome = scan();
    await outcome.catch(() => undefined);
    return { dir, outcome };
  } finally {
    process.env.CASCADE_TEST_CAPTURE_DIR = saved;
  }
}

describe('secret scan', () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  afterAll(() => {
    log.mockRestore();
    error.mockRestore();
  });

  it('passes a clean capture and removes it', async () => {
    const { dir, outcome } = await scanCapture(['info: dispatch {"runs":1}'], ['a-registered-secret']);
    await expect(outcome).resolves.toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  });

  it.each<[string, string]>([
    ['a secret a test registered', 'error: login failed for a-registered-secret'],
    ['a fixture signing secret', 'log: hmac key sampleToken!'],
    // The value saved in test/fixtures/webhooks/gitea/goplayground-gitea-push.headers.json.
    ['a fixture signature', `warn: X-Gitea-Signature ${fixtureSignature()}`],
  ])('fails on %s and keeps the capture for inspection', async (_what, line) => {
    const { dir, outcome } = await scanCapture(['info: fine', line], ['a-registered-secret']);
    await expect(outcome).rejects.toThrow(/1 captured log line\(s\) contain a secret/);
    expect(existsSync(dir)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});

function fixtureSignature(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const headers = require('../../fixtures/webhooks/gitea/goplayground-gitea-push.headers.json') as Record<string, string>;
  const value = Object.entries(headers).find(([name]) => /signature/i.test(name))?.[1];
  if (!value) throw new Error('the gitea fixture has no signature header');
  return value;
}
