// Fails the run if any captured console line contains a secret: the fixtures' signing secrets
// and signatures, and every secret a test registered with rememberSecrets (test/support/secrets.ts).
const { readdirSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

// Secrets of the shared webhook fixtures (see test/fixtures/webhooks/SOURCES.md).
const FIXTURE_SECRETS = ['IsWishesWereHorsesWedAllBeEatingSteak!', 'sampleToken!'];
// Header values in the fixtures that prove a delivery genuine: a signature is as private as a secret.
const CREDENTIAL_HEADER = /signature|token|auth/i;

function fixtureCredentials() {
  const root = join(__dirname, 'fixtures', 'webhooks');
  const values = [];
  for (const provider of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(root, provider.name)).filter((f) => f.endsWith('.headers.json'))) {
      const headers = JSON.parse(readFileSync(join(root, provider.name, file), 'utf8'));
      for (const [name, value] of Object.entries(headers)) {
        if (CREDENTIAL_HEADER.test(name) && typeof value === 'string') values.push(value.replace(/^(?:sha\d+=|Bearer |Basic )/i, ''));
      }
    }
  }
  return values;
}

module.exports = async () => {
  const dir = process.env.CASCADE_TEST_CAPTURE_DIR;
  if (!dir) return;
  const files = readdirSync(dir);
  const remembered = files.includes('secrets.txt') ? readFileSync(join(dir, 'secrets.txt'), 'utf8').split('\n').filter(Boolean) : [];
  const secrets = [...new Set([...FIXTURE_SECRETS, ...fixtureCredentials(), ...remembered])].filter((s) => s.length >= 8);
  let lines = 0;
  const leaks = [];
  for (const file of files.filter((f) => f.startsWith('console-'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      lines += 1;
      for (const secret of secrets) {
        if (line.includes(secret)) leaks.push(`${file}: a secret of ${secret.length} characters appears in: ${line.slice(0, 80).replace(secret, '***')}…`);
      }
    }
  }
  console.log(`\nsecret scan: ${lines} captured log lines checked against ${secrets.length} secrets: ${leaks.length} leaks`);
  if (leaks.length > 0) {
    console.error(leaks.join('\n'));
    throw new Error(`${leaks.length} captured log line(s) contain a secret; the capture is kept in ${dir}`);
  }
  rmSync(dir, { recursive: true, force: true });
};
