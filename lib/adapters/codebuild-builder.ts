// Builds on AWS: one StartBuild per run on the installation's CodeBuild project, whose buildspec
// (infra/buildspec.yml) logs in, pulls the bases, builds with docker and pushes. Everything the
// build needs travels in environment variables; secrets only as PARAMETER_STORE references,
// which CodeBuild resolves inside the build. The result comes back through EventBridge.
//
// A StartBuild whose answer is lost (a timeout, a dropped connection, an unreadable answer, a 5xx)
// may still have created the build. The run id is the idempotency token, so asking again within
// CodeBuild's five minutes returns that build; later, the build is found by its CASCADE_RUN_ID.
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  StopBuildCommand,
  type Build,
  type EnvironmentVariable,
  type SourceType,
  type StartBuildCommandInput,
} from '@aws-sdk/client-codebuild';
import { RetryableError, ValidationError } from '../domain/errors';
import { systemClock, type Builder, type BuildRequest, type BuildState, type Clock } from '../domain/ports';
import type { BuildContext, BuildSpec } from '../domain/types';
import { buildResultFromBuild } from '../aws/build-result';
import { BUILD_ENV, ecrRegion, PASSWORD_VARIABLE_PREFIX, type BasicLogin, type PullRole } from '../aws/build-variables';
import { errorName, mayHaveBeenCarriedOut, retryableIfTransient } from '../aws/sdk-errors';
import { normalizeRegistry } from '../images/reference';

export interface CodeBuildBuilderOptions {
  projectName: string;
  client?: CodeBuildClient;
  /**
   * The SSM parameter holding the stored login (`cascade registry login`) for a push registry
   * that is not ECR and that the task has no credential for; undefined when there is none.
   */
  pushLoginRef?: (registry: string) => Promise<string | undefined>;
  /** StartBuild calls for one start whose outcome stays unknown before giving up for now (each with the SDK's own retries). */
  startAttempts?: number;
  clock?: Clock;
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
/** How long CodeBuild answers a repeated idempotency token with the build it first started (StartBuild's documentation). */
export const IDEMPOTENCY_WINDOW_MS = 5 * 60 * 1000;
/** Build start times are CodeBuild's clock, run creation times this one's: the search reaches this much further back. */
const CLOCK_SKEW_MS = 60 * 1000;
const DEFAULT_START_ATTEMPTS = 2;

export class CodeBuildBuilder implements Builder {
  private readonly client: CodeBuildClient;
  private readonly clock: Clock;

  constructor(private readonly options: CodeBuildBuilderOptions) {
    this.client = options.client ?? new CodeBuildClient({});
    this.clock = options.clock ?? systemClock;
  }

  async start({ runId, spec, earlierAttemptsSince }: BuildRequest): Promise<{ buildId: string }> {
    const source = chooseSource(spec.context, spec.commit);
    const environment = await this.environment(runId, spec, source);
    if (earlierAttemptsSince !== undefined) {
      const since = Date.parse(earlierAttemptsSince);
      // Within the window the token alone gives an earlier attempt's build back; past it, only a search finds it.
      if (Number.isNaN(since) || this.clock.now().getTime() - since >= IDEMPOTENCY_WINDOW_MS) {
        const found = await this.findBuildOfRun(runId, Number.isNaN(since) ? undefined : since);
        if (found) return { buildId: found };
      }
    }
    const input: StartBuildCommandInput = {
      projectName: this.options.projectName,
      idempotencyToken: runId,
      sourceTypeOverride: source.type,
      ...(source.location !== undefined && { sourceLocationOverride: source.location }),
      ...(source.version !== undefined && { sourceVersion: source.version }),
      ...(source.cloneDepth !== undefined && { gitCloneDepthOverride: source.cloneDepth }),
      environmentVariablesOverride: environment,
    };
    return { buildId: await this.startBuild(runId, input) };
  }

  /**
   * StartBuild, asked again with the same token (the same input) while the outcome is unknown:
   * CodeBuild returns the build the lost attempt created, or starts it now. A refusal is final.
   */
  private async startBuild(runId: string, input: StartBuildCommandInput): Promise<string> {
    const attempts = Math.max(1, this.options.startAttempts ?? DEFAULT_START_ATTEMPTS);
    let unknown: unknown;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        const result = await this.client.send(new StartBuildCommand(input));
        if (result.build?.id) return result.build.id;
        unknown = new Error('CodeBuild answered without a build id');
      } catch (error) {
        if (!mayHaveBeenCarriedOut(error)) throw retryableIfTransient(error, `starting the CodeBuild build of run ${runId}`);
        unknown = error;
      }
    }
    const reason = unknown instanceof Error ? `${unknown.name}: ${unknown.message.split('\n')[0]}` : String(unknown);
    throw new RetryableError(
      `CodeBuild may or may not have started the build of run ${runId} (its answer was lost ${attempts} times: ${reason}); the start will be tried again and finds that build if it exists`,
      { cause: unknown },
    );
  }

  /**
   * The newest build of the project whose CASCADE_RUN_ID is this run's, looking back no further
   * than the builds begun around `since` (the run's creation); undefined when there is none.
   */
  private async findBuildOfRun(runId: string, since: number | undefined): Promise<string | undefined> {
    const action = `looking for a CodeBuild build of run ${runId}`;
    let nextToken: string | undefined;
    do {
      let page;
      try {
        // Newest first is the default order; asking for an order is an error once a project has over 100 builds.
        page = await this.client.send(new ListBuildsForProjectCommand({ projectName: this.options.projectName, ...(nextToken !== undefined && { nextToken }) }));
      } catch (error) {
        throw readFailure(error, action);
      }
      const ids = page.ids ?? [];
      let older = false;
      for (const build of await this.getBuilds(ids, action)) {
        if (runIdOf(build) === runId && build.id) return build.id;
        if (since !== undefined && build.startTime && build.startTime.getTime() < since - CLOCK_SKEW_MS) older = true;
      }
      if (older) return undefined;
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  }

  /** BatchGetBuilds, at most 100 ids a call as CodeBuild allows, in the order of `ids`. */
  private async getBuilds(ids: string[], action: string): Promise<Build[]> {
    const builds = new Map<string, Build>();
    for (let i = 0; i < ids.length; i += BATCH_GET_BUILDS_MAX) {
      const chunk = ids.slice(i, i + BATCH_GET_BUILDS_MAX);
      try {
        const answer = await this.client.send(new BatchGetBuildsCommand({ ids: chunk }));
        for (const build of answer.builds ?? []) if (build.id) builds.set(build.id, build);
      } catch (error) {
        throw readFailure(error, action);
      }
    }
    return ids.flatMap((id) => builds.get(id) ?? []);
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
    if (spec.values) variables.push(plain(BUILD_ENV.templateValues, JSON.stringify(spec.values)));

    const pushHost = normalizeRegistry(spec.registry);
    const covered = spec.credentials.some((c) => normalizeRegistry(c.loginServer) === pushHost);
    if (!covered && !ecrRegion(spec.registry) && this.options.pushLoginRef) {
      const ref = await this.options.pushLoginRef(spec.registry);
      if (ref) variables.push({ name: BUILD_ENV.pushLogin, value: ref, type: 'PARAMETER_STORE' });
    }
    return variables;
  }
}

/** The run a build belongs to: the CASCADE_RUN_ID this adapter gave it. */
function runIdOf(build: Build): string | undefined {
  return build.environment?.environmentVariables?.find((v) => v.name === BUILD_ENV.runId && (v.type ?? 'PLAINTEXT') === 'PLAINTEXT')?.value;
}

/** A read that got no answer can simply be read again later. */
function readFailure(error: unknown, action: string): unknown {
  if (!mayHaveBeenCarriedOut(error)) return retryableIfTransient(error, action);
  return new RetryableError(`${action} failed for now (${errorName(error) ?? 'no answer'}); it will be tried again`, { cause: error });
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

