// The CLI signs its requests with AWS Signature Version 4 for a deployed API behind IAM
// authorization, and sends plain ones to the local stack. A real local server recomputes each
// signature from the request as it arrived (./iam-gateway.ts).
import { createHash } from 'node:crypto';
import type { AwsCredentialIdentity } from '@smithy/types';
import { AwsIamSigner } from '../../../lib/cli/aws-iam-signer';
import { rememberSecrets } from '../../support/secrets';
import { makeRun, makeTask, runCli, startApiDouble, type ApiDouble, type Answer, type CliOptions, type Handler, type WireRequest } from './api-double';
import { behindIamAuthorization, routeTo, verifySigV4 } from './iam-gateway';

const credentials: AwsCredentialIdentity = {
  accessKeyId: 'AKIDCASCADETEST0001',
  secretAccessKey: 'cascade-test-secret/0123456789abcdef',
  sessionToken: 'cascade-test-session-token-0123456789abcdef',
};
const withoutSession: AwsCredentialIdentity = { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey };
const wrongSecret: AwsCredentialIdentity = { ...credentials, secretAccessKey: 'cascade-test-wrong-secret/0123456789' };
rememberSecrets(credentials.secretAccessKey, credentials.sessionToken ?? '', wrongSecret.secretAccessKey);

const EXECUTE_API = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com';
const FORCED = { CASCADE_API_AUTH: 'aws-iam', AWS_REGION: 'eu-west-1' };
const noTasks: Handler = () => ({ status: 200, json: { tasks: [] } });

let api: ApiDouble;
beforeAll(async () => {
  api = await startApiDouble();
});
afterAll(() => api.close());

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const signatureOf = (wire: WireRequest) => /Signature=([0-9a-f]{64})/.exec(wire.headers.authorization ?? '')?.[1] ?? '';

function cli(argv: string[], options: Partial<CliOptions> & { stdin?: string } = {}) {
  return runCli(argv, { api: api.url, awsCredentials: async () => credentials, ...options });
}

/** Fails with what leaked: no output may show a secret, the session token or a signature. */
function expectNoSecrets(output: string, wires: WireRequest[]): void {
  const secrets = [credentials.secretAccessKey, credentials.sessionToken ?? '', wrongSecret.secretAccessKey, ...wires.map(signatureOf)];
  expect(secrets.filter((secret) => secret !== '' && output.includes(secret))).toEqual([]);
}

describe('which requests are signed', () => {
  type Case = [label: string, url: (local: string) => string, env: NodeJS.ProcessEnv, region: string | undefined];
  const cases: Case[] = [
    ['an API Gateway URL', () => EXECUTE_API, {}, 'eu-west-1'],
    ['an API Gateway URL with a stage', () => `${EXECUTE_API}/prod`, {}, 'eu-west-1'],
    ['an API Gateway URL in China', () => 'https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn', {}, 'cn-north-1'],
    ['an API Gateway URL, whose host names the region over AWS_REGION', () => EXECUTE_API, { AWS_REGION: 'us-east-1' }, 'eu-west-1'],
    ['a custom domain with CASCADE_API_AUTH=aws-iam', () => 'https://cascade.example.com', { CASCADE_API_AUTH: 'aws-iam', AWS_REGION: 'ap-southeast-2' }, 'ap-southeast-2'],
    ['the local stack with CASCADE_API_AUTH=aws-iam', (local) => local, { CASCADE_API_AUTH: 'aws-iam', AWS_DEFAULT_REGION: 'us-west-2' }, 'us-west-2'],
    ['the local stack at 127.0.0.1', (local) => local, { AWS_REGION: 'eu-west-1' }, undefined],
    ['the local stack at localhost', (local) => local.replace('127.0.0.1', 'localhost'), {}, undefined],
    ['a custom domain without CASCADE_API_AUTH', () => 'https://cascade.example.com', { AWS_REGION: 'eu-west-1' }, undefined],
    ['an API Gateway URL with CASCADE_API_AUTH=none', () => EXECUTE_API, { CASCADE_API_AUTH: 'none' }, undefined],
  ];

  it.each(cases)('%s', async (_label, url, env, region) => {
    const target = url(api.url);
    api.reset(region === undefined ? noTasks : behindIamAuthorization({ credentials, region }, noTasks));
    const routed = target.startsWith(api.url) ? undefined : routeTo(api.url);
    const result = await cli(['task', 'list', '--output', 'json'], { api: target, env, fetch: routed });
    expect(result).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
    expect(api.wire).toHaveLength(1);
    const [wire] = api.wire as [WireRequest];
    expect(wire.host).toBe(new URL(target).host);
    expect(wire.target).toBe(`${new URL(target).pathname.replace(/\/$/, '')}/api/tasks`);
    if (region === undefined) {
      expect(Object.keys(wire.headers).filter((name) => name === 'authorization' || name.startsWith('x-amz-'))).toEqual([]);
      return;
    }
    await expect(verifySigV4(wire, { credentials, region })).resolves.toMatchObject({ ok: true });
    const date = wire.headers['x-amz-date'] ?? '';
    expect(date).toMatch(/^\d{8}T\d{6}Z$/);
    expect(wire.headers.authorization?.startsWith(`AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${date.slice(0, 8)}/${region}/execute-api/aws4_request, SignedHeaders=`)).toBe(true);
    expect(wire.headers['x-amz-security-token']).toBe(credentials.sessionToken);
  });
});

describe('the signature covers what is sent', () => {
  const createdTask: Answer = { status: 201, json: makeTask({ name: 'app' }) };
  type Case = [label: string, argv: string[], stdin: string | undefined, answer: Handler, targets: string[]];
  const cases: Case[] = [
    [
      'GET with a query string',
      ['task', 'list-runs', '--name', "my app's (1)*", '--run-status', 'Running', '--top', '3'],
      undefined,
      () => ({ status: 200, json: { runs: [] } }),
      // fetch's URL serialization encodes the quote itself; the signature must cover that form.
      ['/api/runs?task=my%20app%27s%20(1)*&status=Running&top=3'],
    ],
    [
      'GET of a log from an offset',
      ['task', 'logs', '--run-id', 'da1'],
      undefined,
      (request) => (request.path.endsWith('/log') ? { status: 200, text: 'done\n' } : { status: 200, json: makeRun() }),
      ['/api/runs/da1', '/api/runs/da1/log?offset=0'],
    ],
    [
      'POST with a JSON body that is not ASCII',
      ['task', 'create', '--name', 'app', '--registry', '127.0.0.1:5001', '--image', 'app:{{.Run.ID}}', '--context', 'https://git.example.com/app.git', '--arg', 'GREETING=grüß dich ✓'],
      undefined,
      () => createdTask,
      ['/api/tasks'],
    ],
    ['PATCH with a JSON body', ['task', 'update', '--name', 'app', '--status', 'Disabled'], undefined, () => createdTask, ['/api/tasks/app']],
    [
      'PUT to a path segment holding ":"',
      ['registry', 'login', '127.0.0.1:5000', '--username', 'pusher', '--password-stdin'],
      'pa55word',
      () => ({ status: 204 }),
      ['/api/registries/127.0.0.1%3A5000/login'],
    ],
    ['DELETE', ['task', 'delete', '--name', 'app', '--yes'], undefined, () => ({ status: 204 }), ['/api/tasks/app']],
    [
      'POST without a body',
      ['webhook', 'rotate-secret', '--name', 'base'],
      undefined,
      () => ({ status: 200, json: { name: 'base', provider: 'distribution', url: 'http://x/hooks/base', secret: 'whsec-new-0123', createdAt: '2026-11-28T04:00:00.000Z' } }),
      ['/api/webhooks/base/rotate-secret'],
    ],
  ];

  it.each(cases)('%s', async (_label, argv, stdin, answer, targets) => {
    api.reset(behindIamAuthorization({ credentials, region: 'eu-west-1' }, answer));
    const result = await cli([...argv, '--output', 'json'], { env: FORCED, stdin });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(api.wire.map((wire) => wire.target)).toEqual(targets);
    for (const wire of api.wire) {
      const verdict = await verifySigV4(wire, { credentials, region: 'eu-west-1' });
      expect(verdict).toEqual({ ok: true, signedHeaders: expect.arrayContaining(['host', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']) });
      expect(wire.headers['x-amz-content-sha256']).toBe(sha256(wire.bytes));
      if (wire.bytes.length > 0) expect(verdict.ok && verdict.signedHeaders).toContain('content-type');
    }
    expectNoSecrets(result.stdout + result.stderr, api.wire);
  });

  it('sends the JSON body as the UTF-8 bytes it signed', async () => {
    api.reset(behindIamAuthorization({ credentials, region: 'eu-west-1' }, () => createdTask));
    const argv = ['task', 'create', '--name', 'app', '--registry', 'r.example.com', '--image', 'a:1', '--context', 'https://git.example.com/a.git', '--arg', 'GREETING=grüß dich ✓'];
    expect((await cli(argv, { env: FORCED })).code).toBe(0);
    const [wire] = api.wire as [WireRequest];
    expect(wire.headers['content-length']).toBe(String(wire.bytes.length));
    expect(JSON.parse(wire.bytes.toString('utf8'))).toMatchObject({ args: { GREETING: 'grüß dich ✓' } });
  });

  it('signs without x-amz-security-token when the credentials have no session', async () => {
    api.reset(behindIamAuthorization({ credentials: withoutSession, region: 'eu-west-1' }, noTasks));
    const result = await cli(['task', 'list', '--output', 'json'], { env: FORCED, awsCredentials: async () => withoutSession });
    expect(result.code).toBe(0);
    const [wire] = api.wire as [WireRequest];
    expect(wire.headers['x-amz-security-token']).toBeUndefined();
    await expect(verifySigV4(wire, { credentials: withoutSession, region: 'eu-west-1' })).resolves.toMatchObject({ ok: true });
  });
});

describe('the signer on its own', () => {
  const now = () => new Date('2026-11-28T05:11:16.789Z');
  const signer = new AwsIamSigner({ region: 'eu-west-1', credentials: async () => credentials, now });

  it('dates the signature by its clock', async () => {
    const headers = await signer.sign({ method: 'GET', url: new URL(`${EXECUTE_API}/api/tasks`), headers: { accept: 'application/json' } });
    expect(headers['x-amz-date']).toBe('20261128T051116Z');
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDCASCADETEST0001\/20261128\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=accept;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    // fetch sets Host from the URL; the signer must not try to.
    expect(headers.host).toBeUndefined();
  });

  // What is sent after signing, changed: each must fail verification, or the tests above prove nothing.
  type Tamper = [label: string, sent: { target?: string; body?: string; method?: string }];
  const signedTarget = '/api/registries/127.0.0.1%3A5000/login?top=3';
  const signedBody = '{"username":"u","password":"p"}';
  const tampers: Tamper[] = [
    ['nothing changed (the baseline, which verifies)', {}],
    ['another body', { body: '{"username":"u","password":"q"}' }],
    ['the path decoded', { target: '/api/registries/127.0.0.1:5000/login?top=3' }],
    ['another query', { target: '/api/registries/127.0.0.1%3A5000/login?top=4' }],
    ['another method', { method: 'POST' }],
  ];

  it.each(tampers)('a request with %s', async (label, sent) => {
    api.reset(() => ({ status: 204 }));
    const url = new URL(`${api.url}${signedTarget}`);
    const body = Buffer.from(signedBody);
    const headers = await signer.sign({ method: 'PUT', url, headers: { 'content-type': 'application/json' }, body });
    await fetch(new URL(sent.target ?? signedTarget, api.url), { method: sent.method ?? 'PUT', headers, body: sent.body ?? body });
    const verdict = await verifySigV4(api.wire[0] as WireRequest, { credentials, region: 'eu-west-1' });
    expect(verdict.ok).toBe(label.startsWith('nothing changed'));
  });
});

describe('no AWS credentials', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  /** The provider chain with nothing to find: no AWS_* variables, no files, no instance metadata. */
  function emptyAwsEnvironment(): void {
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    process.env.AWS_CONFIG_FILE = '/nonexistent/cascade-test/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/cascade-test/credentials';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  }

  type Case = [label: string, env: NodeJS.ProcessEnv, provider: CliOptions['awsCredentials'], stderr: string];
  const cases: Case[] = [
    [
      'the standard provider chain finds none',
      {},
      undefined,
      'error: CASCADE_API uses IAM authorization but no AWS credentials were found to sign with (Could not load credentials from any providers): set AWS_PROFILE to a configured profile, run "aws configure", or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n',
    ],
    [
      'the profile in AWS_PROFILE gives none',
      { AWS_PROFILE: 'ghost' },
      undefined,
      'error: CASCADE_API uses IAM authorization but no AWS credentials were found to sign with (Could not load credentials from any providers): check the profile "ghost" in ~/.aws/config (for an SSO profile run "aws sso login --profile ghost") or set AWS_PROFILE to another\n',
    ],
    [
      'a provider fails with a long reason',
      {},
      async () => {
        throw new Error('The SSO session associated with this profile has expired.\nTo refresh this SSO session run aws sso login.');
      },
      'error: CASCADE_API uses IAM authorization but no AWS credentials were found to sign with (The SSO session associated with this profile has expired.): set AWS_PROFILE to a configured profile, run "aws configure", or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n',
    ],
  ];

  it.each(cases)('%s: one sentence, exit 1, nothing sent', async (_label, env, provider, stderr) => {
    emptyAwsEnvironment();
    api.reset(noTasks);
    const result = await runCli(['task', 'list'], { api: api.url, env: { ...FORCED, ...env }, awsCredentials: provider });
    expect(result).toEqual({ code: 1, stdout: '', stderr });
    expect(api.wire).toEqual([]);
  });
});

describe('refused by IAM authorization (403)', () => {
  const denied: Handler = () => ({
    status: 403,
    json: { message: 'User: arn:aws:sts::123456789012:assumed-role/dev/me is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/$default/GET/api/tasks' },
  });
  type Case = [label: string, env: NodeJS.ProcessEnv, signedWith: AwsCredentialIdentity, answer: Handler, stderr: (url: string) => string];
  const cases: Case[] = [
    [
      'an unsigned request',
      {},
      credentials,
      noTasks,
      (url) => `error: the cascade API at ${url} refused the request under IAM authorization ("Forbidden"): cascade did not sign it; set CASCADE_API_AUTH=aws-iam (and AWS_REGION for a custom domain) so it does\n`,
    ],
    [
      'a signature that does not match',
      FORCED,
      wrongSecret,
      noTasks,
      (url) =>
        `error: the cascade API at ${url} refused the request under IAM authorization ("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."): check this machine's clock and, for a custom domain, that AWS_REGION is the API's region\n`,
    ],
    [
      'an identity not allowed to invoke the API',
      FORCED,
      credentials,
      denied,
      (url) =>
        `error: the cascade API at ${url} refused the request under IAM authorization ("User: arn:aws:sts::123456789012:assumed-role/dev/me is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/$default/GET/api/tasks"): check that your AWS credentials (AWS_PROFILE) are current and allowed execute-api:Invoke on this API\n`,
    ],
    [
      "cascade's own 403, which is not about IAM",
      FORCED,
      credentials,
      () => ({ status: 403, json: { error: { code: 'forbidden', message: 'task "app" belongs to another team' } } }),
      () => 'error: task "app" belongs to another team\n',
    ],
  ];

  it.each(cases)('%s', async (_label, env, signedWith, answer, stderr) => {
    api.reset(behindIamAuthorization({ credentials, region: 'eu-west-1' }, answer));
    const result = await cli(['task', 'list'], { env, awsCredentials: async () => signedWith });
    expect(result).toEqual({ code: 1, stdout: '', stderr: stderr(api.url) });
    expectNoSecrets(result.stderr, api.wire);
  });
});

describe('a wrong CASCADE_API_AUTH or region', () => {
  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['an unknown mode', { CASCADE_API_AUTH: 'sigv4' }, 'error: CASCADE_API_AUTH takes one of auto, aws-iam, none; fix or unset it\n'],
    ['aws-iam with no region for the host', { CASCADE_API_AUTH: 'aws-iam' }, 'error: CASCADE_API_AUTH=aws-iam needs the region of the API at cascade.example.com to sign for: set AWS_REGION, e.g. AWS_REGION=us-east-1\n'],
  ])('%s exits 2 and sends nothing', async (_label, env, stderr) => {
    api.reset(noTasks);
    const result = await cli(['task', 'list'], { api: 'https://cascade.example.com', env, fetch: routeTo(api.url) });
    expect(result).toEqual({ code: 2, stdout: '', stderr });
    expect(api.wire).toEqual([]);
  });
});
