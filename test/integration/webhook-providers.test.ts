// Every provider end to end on the local stack's real parts (HTTP server, DynamoDB Local, the
// in-process queue, the dispatcher): a real fixture's bytes, authenticated as its sender would,
// start exactly one run of the task that depends on what it names, and a redelivery starts none.
// The builder records start requests instead of building. Docker Hub is the one provider left
// out: its events name docker.io, whose digest lookup needs the internet (the lookup itself is
// covered by digest-resolution.test.ts, and Quay's, through a real registry, here).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedBaseImage, Run } from '../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { RecordingBuilder } from '../support/recording-builder';
import { pushImage } from '../support/registry';
import { rememberSecrets } from '../support/secrets';
import * as sign from '../support/webhook-signers';

jest.setTimeout(120_000);

const FIXTURES = join(__dirname, '..', 'fixtures', 'webhooks');
const fixture = (path: string) => readFileSync(join(FIXTURES, path));
const OLD_DIGEST = `sha256:${'0'.repeat(63)}1`;
const FULL_DIGEST = 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682';

interface Base {
  registry: string;
  repository: string;
  tag: string;
}

interface RegistryRow {
  provider: string;
  what: string;
  body: () => Buffer;
  contentType: string;
  signer: sign.Signer;
  loginServer?: () => string;
  base: () => Base;
  /** The digest the run must say it was started for. */
  digest: () => string;
}

interface GitRow {
  provider: string;
  what: string;
  body: () => Buffer;
  contentType: string;
  signer: sign.Signer;
  /** The task's context: the same repository as the payload names, spelled differently. */
  context: string;
  commit: string;
  branch: string;
}

let work: string;
let stack: LocalStack;
let quayRegistry: RegistryProcess;
let quayDigest = '';
let builder: RecordingBuilder;
/** What each task's first (manual) build reports it pulled. */
const basesOf = new Map<string, ResolvedBaseImage[]>();

const gar = (data: Buffer) =>
  Buffer.from(
    JSON.stringify({
      message: { data: data.toString('base64'), attributes: {}, messageId: '2070443601311540', publishTime: '2026-11-28T04:44:21.123Z' },
      subscription: 'projects/my-project/subscriptions/cascade',
    }),
  );
const jfrog = (data: Buffer) =>
  Buffer.from(
    JSON.stringify({
      domain: 'docker',
      event_type: 'pushed',
      data: JSON.parse(data.toString('utf8')),
      subscription_key: 'cascade',
      jpd_origin: 'https://example.jfrog.io',
      source: 'jfrog/admin',
    }),
  );
/** A fixture with one change made to its JSON, for vendor examples whose digest is cut short. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const edited = (path: string, change: (json: any) => void) => () => {
  const json = JSON.parse(fixture(path).toString('utf8'));
  change(json);
  return Buffer.from(JSON.stringify(json));
};

const REGISTRY_ROWS: RegistryRow[] = [
  {
    provider: 'distribution',
    what: 'a tagged manifest push captured from distribution',
    body: () => fixture('distribution/buildah-manifest-push-tagged.json'),
    contentType: 'application/vnd.docker.distribution.events.v1+json',
    signer: sign.bearer,
    base: () => ({ registry: '127.0.0.1:5055', repository: 'baseimages/node', tag: '9-alpine' }),
    digest: () => FULL_DIGEST,
  },
  {
    provider: 'ecr',
    what: "AWS's push example, its 60-hex digest replaced by a full one",
    body: edited('ecr/awsdocs-ecr-image-action-push-success.json', (event) => (event.detail['image-digest'] = FULL_DIGEST)),
    contentType: 'application/json; charset=utf-8',
    signer: sign.bearer,
    base: () => ({ registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com', repository: 'my-repository-name', tag: 'latest' }),
    digest: () => FULL_DIGEST,
  },
  {
    provider: 'acr',
    what: "Azure's 2017 push example",
    body: () => fixture('acr/azuredocs-2017-push.json'),
    contentType: 'application/json',
    signer: sign.bearer,
    base: () => ({ registry: 'myregistry.azurecr.io', repository: 'hello-world', tag: 'v1' }),
    digest: () => 'sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d',
  },
  {
    provider: 'harbor',
    what: "Harbor 2.0's push of a tag",
    body: () => fixture('harbor/docs-v2.0-PUSH_ARTIFACT-default-tag-latest.json'),
    contentType: 'application/json',
    signer: sign.bearer,
    base: () => ({ registry: 'hub.harbor.com', repository: 'test-webhook/debian', tag: 'latest' }),
    digest: () => 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8',
  },
  {
    provider: 'quay',
    what: "Quay's repo_push example as a self-hosted Quay on a real registry sends it, the digest asked of that registry",
    body: () => edited('quay/quaydocs-repo_push.json', (event) => (event.docker_url = `${quayRegistry.host}/dgangaia/test`))(),
    contentType: 'application/json',
    signer: sign.inPath,
    base: () => ({ registry: quayRegistry.host, repository: 'dgangaia/test', tag: 'latest' }),
    digest: () => quayDigest,
  },
  {
    provider: 'ghcr',
    what: "Octokit's package example with a tag and a full digest (the example has neither)",
    body: edited('ghcr/octokit-package-published-docker.json', (event) => {
      event.package.package_version.container_metadata.tag = { name: '1.0', digest: FULL_DIGEST };
    }),
    contentType: 'application/json',
    signer: sign.githubHmac('package'),
    base: () => ({ registry: 'ghcr.io', repository: 'codertocat/hello-world-npm', tag: '1.0' }),
    digest: () => FULL_DIGEST,
  },
  {
    provider: 'gar',
    what: "Google's tagged INSERT, its digest written out in full, in a Pub/Sub push envelope",
    body: () => gar(edited('gar/gcpdocs-insert-with-tag.json', (message) => (message.digest = message.digest.replace('sha256:6ec128e26cd5...', FULL_DIGEST)))()),
    contentType: 'application/json',
    signer: sign.inPath,
    base: () => ({ registry: 'us-west1-docker.pkg.dev', repository: 'my-project/my-repo/hello-world', tag: '1.1' }),
    digest: () => FULL_DIGEST,
  },
  {
    provider: 'artifactory',
    what: "JFrog's Docker pushed example in its event body, signed",
    body: () => jfrog(fixture('artifactory/jfrogdocs-docker-pushed-data.json')),
    contentType: 'application/json',
    signer: sign.jfrogHmac,
    loginServer: () => 'example.jfrog.io',
    base: () => ({ registry: 'example.jfrog.io', repository: 'docker-remote-cache/library/ubuntu', tag: 'latest' }),
    digest: () => 'sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce',
  },
];

const GIT_ROWS: GitRow[] = [
  {
    provider: 'github',
    what: 'a branch push',
    body: () => fixture('github/goplayground-push-branch.json'),
    contentType: 'application/json',
    signer: sign.githubHmac('push'),
    context: 'git@github.com:BinkKatal/sample_app.git',
    commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
    branch: 'master',
  },
  {
    provider: 'gitlab',
    what: 'a Push Hook',
    body: () => fixture('gitlab/goplayground-push-hook.json'),
    contentType: 'application/json',
    signer: sign.gitlabToken('Push Hook'),
    context: 'https://example.com/mike/diaspora',
    commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    branch: 'master',
  },
  {
    provider: 'bitbucket',
    what: 'a Cloud repo:push',
    body: () => fixture('bitbucket/goplayground-cloud-repo-push.json'),
    contentType: 'application/json',
    signer: sign.bitbucketHmac('repo:push'),
    context: 'https://api.bitbucket.org/bitbucket/bitbucket.git',
    commit: '709d658dc5b6d6afcd46049c2f332ee3f515a67d',
    branch: 'name-of-branch',
  },
  {
    provider: 'gitea',
    what: 'a Gitea push',
    body: () => fixture('gitea/goplayground-gitea-push.json'),
    contentType: 'application/json',
    signer: sign.forgeHmac('gitea'),
    context: 'http://LOCALHOST:3000/example/example/',
    commit: '67b56589a45103f891bdee7c0546e5d40bc02001',
    branch: 'master',
  },
  {
    provider: 'gitea',
    what: 'a Gogs push',
    body: () => fixture('gitea/goplayground-gogs-push.json'),
    contentType: 'application/json',
    signer: sign.forgeHmac('gogs'),
    context: 'http://localhost:3000/unknwon/webhooks',
    commit: 'bffeb74224043ba2feb48d137756c8a9331c449a',
    branch: 'develop',
  },
  {
    provider: 'azure-devops',
    what: 'a git.push service hook',
    body: () => fixture('azure-devops/goplayground-git-push.json'),
    contentType: 'application/json; charset=utf-8',
    signer: sign.azureBasic,
    context: 'https://dev.azure.com/fabrikam-fiber-inc/DefaultCollection/_git/Fabrikam-Fiber-Git',
    commit: '33b55f7cb7e7e245323987634f960cf4a6e6bc74',
    branch: 'main',
  },
];

const taskName = (kind: 'image' | 'git', index: number) => `${kind}-${index}`;
const hooks = new Map<string, { url: string; secret: string }>();

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const answer = await fetch(`${stack.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function webhookFor(key: string, provider: string, loginServer?: string): Promise<{ url: string; secret: string }> {
  const created = await api<{ url: string; secret: string }>('POST', '/api/webhooks', { name: key, provider, ...(loginServer && { loginServer }) });
  expect(created.status).toBe(201);
  rememberSecrets(created.body.secret);
  return created.body;
}

/** Posts `body` as the provider's sender would: to the URL `webhook create` printed, signed with its secret. */
async function deliver(hook: { url: string; secret: string }, body: Buffer, contentType: string, signer: sign.Signer) {
  const signed = signer(body, hook.secret);
  // For senders that carry the secret in the path, the printed URL already ends with it.
  expect(signed.pathSecret === undefined || hook.url.endsWith(`/${signed.pathSecret}`)).toBe(true);
  const answer = await fetch(hook.url, { method: 'POST', headers: { 'content-type': contentType, ...signed.headers }, body: new Uint8Array(body) });
  return { status: answer.status, body: (await answer.json()) as { accepted: number; ignored: Array<{ reason: string }> } };
}

async function runsOf(task: string): Promise<Run[]> {
  return (await api<{ runs: Run[] }>('GET', `/api/runs?task=${task}&top=100`)).body.runs;
}

async function createTask(name: string, context: string): Promise<void> {
  const created = await api('POST', '/api/tasks', {
    name,
    registry: '127.0.0.1:5998',
    images: [`${name}:{{.Run.ID}}`],
    context,
    file: 'Dockerfile',
    args: {},
  });
  expect(created.status).toBe(201);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-providers-'));
  quayRegistry = await startRegistry();
  quayDigest = (await pushImage(quayRegistry.url, 'dgangaia/test', 'latest', { env: ['QUAY=1'] })).digest;
  stack = await startLocalStack({
    port: 0,
    dataDir: work,
    inMemory: true,
    log: (line) => console.log(line),
    sources: null,
    builder: (report) =>
      (builder = new RecordingBuilder({ report, finishEach: (request) => ({ baseImages: basesOf.get(request.spec.images[0]!.split(':')[0]!) ?? [] }) })),
  });

  for (const [index, row] of REGISTRY_ROWS.entries()) {
    const name = taskName('image', index);
    basesOf.set(name, [{ ...row.base(), digest: OLD_DIGEST, stage: 'runtime', pinned: false }]);
    await createTask(name, `https://git.example.com/apps/${name}.git`);
    hooks.set(name, await webhookFor(name, row.provider, row.loginServer?.()));
  }
  for (const [index, row] of GIT_ROWS.entries()) {
    const name = taskName('git', index);
    await createTask(name, `${row.context}#${row.branch}`);
    hooks.set(name, await webhookFor(name, row.provider));
  }
  // The first run of every task, by hand, records what it was built from.
  for (const name of hooks.keys()) expect((await api('POST', `/api/tasks/${name}/runs`, {})).status).toBe(202);
  await stack.idle();
});

afterAll(async () => {
  await stack?.stop();
  await quayRegistry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each(REGISTRY_ROWS.map((row, index) => ({ ...row, index })))('$provider: $what', (row) => {
  const name = taskName('image', row.index);

  it('starts one Image Update run of the dependent task, and none on redelivery', async () => {
    const hook = hooks.get(name)!;
    const first = await deliver(hook, row.body(), row.contentType, row.signer);
    expect(first).toEqual({ status: 202, body: { accepted: 1, ignored: [] } });
    await stack.idle();
    const again = await deliver(hook, row.body(), row.contentType, row.signer);
    expect(again.status).toBe(202);
    await stack.idle();

    const base = row.base();
    const updates = (await runsOf(name)).filter((run) => run.trigger === 'Image Update');
    expect(updates.map((run) => [run.status, run.cause])).toEqual([
      [
        'Succeeded',
        expect.objectContaining({
          kind: 'image-update',
          base: `${base.registry}/${base.repository}:${base.tag}`,
          oldDigest: OLD_DIGEST,
          newDigest: row.digest(),
          source: row.provider,
        }),
      ],
    ]);
  });
});

describe.each(GIT_ROWS.map((row, index) => ({ ...row, index })))('$provider: $what', (row) => {
  const name = taskName('git', row.index);

  it('starts one Git Commit run of the task on that repository and branch, and none on redelivery', async () => {
    const hook = hooks.get(name)!;
    const first = await deliver(hook, row.body(), row.contentType, row.signer);
    expect(first).toEqual({ status: 202, body: { accepted: 1, ignored: [] } });
    await stack.idle();
    expect((await deliver(hook, row.body(), row.contentType, row.signer)).status).toBe(202);
    await stack.idle();

    const commits = (await runsOf(name)).filter((run) => run.trigger === 'Git Commit');
    expect(commits.map((run) => [run.status, run.commit, run.branch, run.cause.kind])).toEqual([['Succeeded', row.commit, row.branch, 'git-commit']]);
    const request = builder.started.find((s) => s.spec.images[0]?.startsWith(`${name}:`) && s.spec.commit === row.commit);
    expect(request?.spec.context).toEqual(expect.objectContaining({ kind: 'git', branch: row.branch }));
  });
});
