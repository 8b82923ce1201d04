// Builds on AWS: one StartBuild per run on the installation's CodeBuild project, whose buildspec
// (infra/buildspec.yml) logs in, pulls the bases, builds with docker and pushes. Everything the
// build needs travels in environment variables; secrets only as PARAMETER_STORE references,
// which CodeBuild resolves inside the build. The result comes back through EventBridge.
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand, StopBuildCommand, type EnvironmentVariable, type SourceType } from '@aws-sdk/client-codebuild';
import { ValidationError } from '../domain/errors';
import type { Builder, BuildRequest, BuildState } from '../domain/ports';
import type { BuildContext, BuildSpec } from '../domain/types';
import { buildResultFromBuild } from '../aws/build-result';
import { BUILD_ENV, ecrRegion, PASSWORD_VARIABLE_PREFIX, type BasicLogin, type PullRole } from '../aws/build-variables';
import { errorName, retryableIfTransient } from '../aws/sdk-errors';

export interface CodeBuildBuilderOptions {
  projectName: string;
  client?: CodeBuildClient;
  /**
   * The SSM parameter holding the stored login (`cascade registry login`) for a push registry
   * that is not ECR and that the task has no credential for; undefined when there is none.
   */
  pushLoginRef?: (registry: string) => Promise<string | undefined>;
}

interface SourceChoice {
  type: SourceType;
  location?: string;
  version?: string;
  cloneDepth?: number;
  /** The buildspec clones the repository itself. */
  clone: boolean;
}

const BATCH_GET_BUILDS_MAX = 100;

export class CodeBuildBuilder implements Builder {
  private readonly client: CodeBuildClient;

  constructor(private readonly options: CodeBuildBuilderOptions) {
    this.client = options.client ?? new CodeBuildClient({});
  }

  async start({ runId, spec }: BuildRequest): Promise<{ buildId: string }> {
    const source = chooseSource(spec.context, spec.commit);
    const environment = await this.environment(runId, spec, source);
    let buildId: string | undefined;
    try {
      const result = await this.client.send(
        new StartBuildCommand({
          projectName: this.options.projectName,
          // A redelivered start of the same run within five minutes gets the same build back.
          idempotencyToken: runId,
          sourceTypeOverride: source.type,
          ...(source.location !== undefined && { sourceLocationOverride: source.location }),
          ...(source.version !== undefined && { sourceVersion: source.version }),
          ...(source.cloneDepth !== undefined && { gitCloneDepthOverride: source.cloneDepth }),
          environmentVariablesOverride: environment,
        }),
      );
      buildId = result.build?.id;
    } catch (error) {
      throw retryableIfTransient(error, `starting the CodeBuild build of run ${runId}`);
    }
    if (!buildId) throw new Error(`CodeBuild accepted the build of run ${runId} but returned no build id`);
    return { buildId };
  }

  async cancel(buildId: string): Promise<void> {
    try {
      await this.client.send(new StopBuildCommand({ id: buildId }));
    } catch (error) {
      // A build that already ended, or was never found, has nothing left to stop.
      if (errorName(error) === 'ResourceNotFoundException' || errorName(error) === 'InvalidInputException') return;
      throw retryableIfTransient(error, `stopping the CodeBuild build ${buildId}`);
    }
  }

  /** BatchGetBuilds, at most 100 ids a call as CodeBuild allows. */
  async describe(buildIds: string[]): Promise<BuildState[]> {
    const states: BuildState[] = [];
    for (let i = 0; i < buildIds.length; i += BATCH_GET_BUILDS_MAX) {
      const ids = buildIds.slice(i, i + BATCH_GET_BUILDS_MAX);
      let answer;
      try {
        answer = await this.client.send(new BatchGetBuildsCommand({ ids }));
      } catch (error) {
        throw retryableIfTransient(error, `asking CodeBuild about ${ids.length} build(s)`);
      }
      for (const build of answer.builds ?? []) {
        const buildId = build.id ?? '';
        const outcome = buildResultFromBuild(build, { projectName: this.options.projectName });
        if (outcome.kind === 'result') states.push({ buildId, state: 'finished', result: outcome.result });
        else if (build.buildStatus === 'IN_PROGRESS') states.push({ buildId, state: 'running' });
        else states.push({ buildId, state: 'missing', reason: outcome.reason });
      }
      for (const buildId of answer.buildsNotFound ?? []) {
        states.push({ buildId, state: 'missing', reason: `CodeBuild has no record of build ${buildId}` });
      }
    }
    return states;
  }

  private async environment(runId: string, spec: BuildSpec, source: SourceChoice): Promise<EnvironmentVariable[]> {
    const plain = (name: string, value: string): EnvironmentVariable => ({ name, value, type: 'PLAINTEXT' });
    const pullRoles: PullRole[] = [];
    const basicLogins: BasicLogin[] = [];
    const secretRefs: EnvironmentVariable[] = [];
    for (const credential of spec.credentials) {
      if (credential.kind === 'identity') {
        if (!ecrRegion(credential.loginServer)) {
          throw new ValidationError(
            `the credential for ${credential.loginServer} uses the IAM role ${credential.roleArn}, but roles only log in to Amazon ECR registries; add a username and password credential for ${credential.loginServer}`,
            'credentials',
          );
        }
        pullRoles.push({ loginServer: credential.loginServer, roleArn: credential.roleArn });
      } else {
        const passwordVariable = `${PASSWORD_VARIABLE_PREFIX}${secretRefs.length}`;
        // The reference is the parameter name: CodeBuild reads the value, cascade never sends it.
        secretRefs.push({ name: passwordVariable, value: credential.secretRef, type: 'PARAMETER_STORE' });
        basicLogins.push({ loginServer: credential.loginServer, username: credential.username, passwordVariable });
      }
    }

    const variables = [
      plain(BUILD_ENV.runId, runId),
      plain(BUILD_ENV.registry, spec.registry),
      plain(BUILD_ENV.images, JSON.stringify(spec.images.map((image) => `${spec.registry}/${image}`))),
      plain(BUILD_ENV.dockerfile, spec.dockerfile),
      plain(BUILD_ENV.buildArgs, JSON.stringify(spec.buildArgs)),
      plain(BUILD_ENV.contextFolder, spec.context.kind === 'git' ? spec.context.folder || '.' : '.'),
      plain(BUILD_ENV.clone, String(source.clone)),
      plain(BUILD_ENV.pullRoles, JSON.stringify(pullRoles)),
      plain(BUILD_ENV.basicLogins, JSON.stringify(basicLogins)),
      ...secretRefs,
    ];
    if (spec.platform) variables.push(plain(BUILD_ENV.platform, spec.platform));
    if (spec.context.kind === 'git') {
      variables.push(plain(BUILD_ENV.gitUrl, spec.context.url), plain(BUILD_ENV.gitBranch, spec.context.branch));
    }
    if (spec.commit) variables.push(plain(BUILD_ENV.gitCommit, spec.commit));

    const pushHost = hostKey(spec.registry);
    const covered = spec.credentials.some((c) => hostKey(c.loginServer) === pushHost);
    if (!covered && !ecrRegion(spec.registry) && this.options.pushLoginRef) {
      const ref = await this.options.pushLoginRef(spec.registry);
      if (ref) variables.push({ name: BUILD_ENV.pushLogin, value: ref, type: 'PARAMETER_STORE' });
    }
    return variables;
  }
}

/**
 * CodeBuild clones GitHub, Bitbucket and CodeCommit itself (with the account's source
 * credentials, so private repositories work); any other host is cloned by the buildspec.
 */
function chooseSource(context: BuildContext, commit: string | undefined): SourceChoice {
  if (context.kind === 'local') {
    throw new ValidationError(
      `the build context ${context.path} is a folder on this machine, which builds on AWS cannot reach; use a git URL as the context`,
      'context',
    );
  }
  let url: URL | undefined;
  try {
    url = new URL(context.url);
  } catch {
    // scp-like `git@host:owner/repo`: not a URL, cloned by the buildspec.
  }
  if (url?.protocol === 'file:') {
    throw new ValidationError(`the build context ${context.url} is a file:// repository, which builds on AWS cannot reach; use a hosted git URL`, 'context');
  }
  if (url?.password) {
    // Environment variables and source locations are visible to anyone who can read the build.
    throw new ValidationError(
      `the git URL of the build context carries a password, which would be visible in the CodeBuild build; store the token in CodeBuild's source credentials instead`,
      'context',
    );
  }
  const type = url?.protocol === 'https:' ? nativeSourceType(url) : undefined;
  if (!type) return { type: 'NO_SOURCE', clone: true };
  return {
    type,
    location: context.url,
    version: commit ?? context.branch,
    // A branch head needs one commit; a given commit may be anywhere in the history.
    cloneDepth: commit ? 0 : 1,
    clone: false,
  };
}

function nativeSourceType(url: URL): SourceType | undefined {
  const host = url.hostname.toLowerCase();
  if (host === 'github.com') return 'GITHUB';
  if (host === 'bitbucket.org') return 'BITBUCKET';
  if (/^git-codecommit\.[a-z0-9-]+\.amazonaws\.com$/.test(host) && url.pathname.startsWith('/v1/repos/')) return 'CODECOMMIT';
  return undefined;
}

/** Registry hosts as logins know them: case-insensitive, Docker Hub's aliases are one host. */
function hostKey(loginServer: string): string {
  const host = loginServer.toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}
