// Property-based fuzzing of every provider's endpoint, through the same router the webhook
// function and the local server use: random and mutated bodies and header sets, correctly and
// wrongly signed. Whatever arrives, the answer is a 2xx or a 4xx with a JSON reason, never a 5xx.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createCascade } from '../../../lib/domain/cascade';
import { providers } from '../../../lib/events';
import { webhookRoutes } from '../../../lib/http/api-routes';
import { createRouter } from '../../../lib/http/router';
import type { HttpRequest } from '../../../lib/http/types';
import { memoryCascadePorts } from '../../support/memory-ports';
import { rememberSecrets } from '../../support/secrets';
import { SIGNERS } from '../../support/webhook-signers';

const SECRET = 'fuzz-secret-0123456789';
rememberSecrets(SECRET);
const RUNS_PER_PROVIDER = 800;

/** Every fixture body of that provider's kind, as seeds for mutation. */
function seeds(): unknown[] {
  const root = join(__dirname, '..', '..', 'fixtures', 'webhooks');
  const bodies: unknown[] = [];
  for (const dir of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(root, dir.name)).filter((f) => f.endsWith('.json') && !f.endsWith('.headers.json'))) {
      try {
        bodies.push(JSON.parse(readFileSync(join(root, dir.name, file), 'utf8')));
      } catch {
        // a fixture that is not JSON is a seed for nothing
      }
    }
  }
  return bodies;
}

/** Replaces one randomly chosen value somewhere inside `value` with `replacement`. */
function mutate(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return replacement;
  const [head = 0, ...rest] = path;
  const index = head % entries.length;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const [key, inner] = entries[index] as readonly [string, unknown];
  if (rest.length === 0 && head % 7 === 0) {
    if (Array.isArray(copy)) copy.splice(index, 1);
    else delete copy[key];
    return copy;
  }
  (copy as Record<string, unknown>)[key] = mutate(inner, rest, replacement);
  return copy;
}

const SEEDS = seeds();

const bodyArbitrary = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc
    .tuple(fc.constantFrom(...SEEDS), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.jsonValue())
    .map(([seed, path, replacement]) => Buffer.from(JSON.stringify(mutate(seed, path, replacement)) ?? 'null')),
  fc.constantFrom(...SEEDS).map((seed) => Buffer.from(JSON.stringify(seed))),
);

const headerNoise = fc.dictionary(
  fc.constantFrom('x-github-event', 'x-gitlab-event', 'x-event-key', 'x-gitea-event', 'authorization', 'x-hub-signature-256', 'x-request-id', 'ce-type', 'x-github-delivery'),
  fc.string({ maxLength: 40 }),
  { maxKeys: 3 },
);

let deliveries = 0;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  // The webhook issue asks for at least 10,000 deliveries across the providers, and none unhandled.
  expect(deliveries).toBeGreaterThanOrEqual(10_000);
  expect(unhandled).toEqual([]);
});

describe.each(Object.keys(providers))('fuzzing the %s endpoint', (name) => {
  const provider = providers[name]!;

  it('has a signer in this test', () => {
    expect(SIGNERS[name]).toBeDefined();
  });

  it(`answers ${RUNS_PER_PROVIDER} random and mutated deliveries with 2xx or 4xx and a JSON body`, async () => {
    const ports = memoryCascadePorts();
    await ports.webhooks.create({ name: 'fuzz', provider: name, secrets: [SECRET], loginServer: 'registry.example.com', createdAt: '2026-11-28T00:00:00.000Z' });
    const cascade = createCascade(ports);
    const route = createRouter(webhookRoutes, cascade);
    const signers = SIGNERS[name] ?? [];
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(
        bodyArbitrary,
        fc.nat({ max: signers.length + 1 }),
        fc.constantFrom(...provider.contentTypes, 'text/plain', 'application/json; charset=utf-8', ''),
        headerNoise,
        fc.boolean(),
        async (body, signerIndex, contentType, noise, signFirst) => {
          const signer = signers[signerIndex];
          const signed = signer ? signer(body, SECRET) : { headers: {} };
          const headers: Record<string, string | undefined> = signFirst ? { ...noise, ...signed.headers } : { ...signed.headers, ...noise };
          if (contentType) headers['content-type'] = contentType;
          const request: HttpRequest = {
            method: 'POST',
            path: signed.pathSecret ? `/webhooks/fuzz/${signed.pathSecret}` : '/webhooks/fuzz',
            query: {},
            headers,
            body,
            receivedAt: '2026-11-28T05:00:00.000Z',
          };
          const response = await route(request);
          deliveries += 1;
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          expect(response.status).toBeLessThan(500);
          expect(() => JSON.parse(response.body)).not.toThrow();
        },
      ),
      { numRuns: RUNS_PER_PROVIDER, seed: 20261128 },
    );
    // Authentication passed often enough for normalize to be exercised, not just the 401 path.
    const past401 = [...statuses].filter(([status]) => status !== 401).reduce((sum, [, count]) => sum + count, 0);
    expect(past401).toBeGreaterThan(RUNS_PER_PROVIDER / 10);
  });
});
