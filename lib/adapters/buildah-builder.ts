// The local builder: clones the context, pulls every base image of the Dockerfile (so the run
// records the exact digests it used), builds with buildah and pushes. Builds run in the
// background; each start() ends in exactly one onResult().
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { analyzeDockerfile, type DockerfileAnalysis } from '../dockerfile/analyze';
import { CascadeError } from '../domain/errors';
import type { Builder, BuildRequest, Clock, LogStore, SecretStore } from '../domain/ports';
import { systemClock } from '../domain/ports';
import type { BuildContext, BuildResult, BuildSpec, OutputImage, ResolvedBaseImage } from '../domain/types';
import { isLoopbackRegistry } from '../images/reference';
import { buildReason, lastErrorLine, registryReason } from './buildah-errors';
import { CommandNotFoundError, runCommand, type CommandResult } from './buildah-process';
import { redact, type SecretToHide } from './redact';

export interface RegistryLogin {
  username: string;
  password: string;
}

export interface BuildahBuilderOptions {
  /** Per-build temp dirs (clones, authfiles) go here and are removed after each build. */
  workDir: string;
  /** buildah's image storage; kept between builds so unchanged base layers are not fetched again. */
  storageRoot: string;
  secrets: SecretStore;
  logs: LogStore;
  onResult: (result: BuildResult) => Promise<void>;
  /** Registries besides loopback ones that speak plain HTTP. */
  insecureRegistries?: string[];
  buildahPath?: string;
  gitPath?: string;
  /** Whole build, clone to push. Defaults to one hour, as CodeBuild does. */
  timeoutMs?: number;
  clock?: Clock;
  /** Credentials for the registry a build pushes to, when the task has none of its own for it. */
  pushCredentials?: (host: string) => Promise<RegistryLogin | undefined>;
}

const DEFAULT_TIMEOUT_MS = 60 * 60 * 1000;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
// buildah 1.28 reads --retry 0 as "use the default" (3 tries, 2s apart): one quick retry is the floor.
const PULL_RETRY = ['--retry', '1', '--retry-delay', '500ms'];

/** A build step failed for a reason the build's inputs or its registries explain. */
class BuildStepError extends CascadeError {
  readonly status = 422;
  readonly code = 'build_failed';
}

type AbortReason = 'Timeout' | 'Canceled';

interface ActiveBuild {
  buildId: string;
  runId: string;
  controller: AbortController;
  abortReason?: AbortReason;
  abortDetail?: string;
  done: Promise<void>;
}

export class BuildahBuilder implements Builder {
  private readonly active = new Map<string, ActiveBuild>();
  private readonly clock: Clock;
  private readonly buildah: string;
  private readonly git: string;
  private readonly timeoutMs: number;
  private stopped = false;

  constructor(private readonly options: BuildahBuilderOptions) {
    this.clock = options.clock ?? systemClock;
    this.buildah = options.buildahPath ?? 'buildah';
    this.git = options.gitPath ?? 'git';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async start(request: BuildRequest): Promise<{ buildId: string }> {
    if (this.stopped) throw new Error('the builder is stopped and accepts no new builds');
    const buildId = `buildah-${safeName(request.runId)}-${randomBytes(4).toString('hex')}`;
    const build: ActiveBuild = {
      buildId,
      runId: request.runId,
      controller: new AbortController(),
      done: Promise.resolve(),
    };
    this.active.set(buildId, build);
    build.done = this.execute(build, request.spec)
      .catch((err: unknown) => console.error(`buildah builder: run ${request.runId} ended abnormally: ${(err as Error).message}`))
      .finally(() => this.active.delete(buildId));
    return { buildId };
  }

  async cancel(buildId: string): Promise<void> {
    const build = this.active.get(buildId);
    if (build) abort(build, 'Canceled', 'the build was canceled');
  }

  /** Resolves once no build is running. */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active.values()].map((b) => b.done));
  }

  /** Cancels running builds (each still reports Canceled) and refuses new ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const build of this.active.values()) abort(build, 'Canceled', 'the build was canceled because cascade stopped');
    await this.idle();
  }

  private async execute(build: ActiveBuild, spec: BuildSpec): Promise<void> {
    const secrets: SecretToHide[] = [];
    const log = new RunLog(this.options.logs, build.runId, secrets);
    const outputImages: OutputImage[] = [];
    const baseImages: ResolvedBaseImage[] = [];
    let status: BuildResult['status'] = 'Succeeded';
    let error: string | undefined;
    let dir: string | undefined;
    const timer = setTimeout(
      () => abort(build, 'Timeout', `the build did not finish within ${describeDuration(this.timeoutMs)}`),
      this.timeoutMs,
    );
    timer.unref();

    try {
      await mkdir(this.options.workDir, { recursive: true });
      dir = await mkdtemp(join(this.options.workDir, `${safeName(build.runId)}-`));
      const config = { ...this.options, buildah: this.buildah, git: this.git };
      const steps = new BuildSteps(config, build, spec, dir, log, secrets);
      await steps.run(outputImages, baseImages);
    } catch (err) {
      if (build.abortReason) {
        status = build.abortReason;
        error = build.abortDetail;
      } else if (err instanceof CascadeError) {
        status = 'Failed';
        error = err.message;
      } else {
        // Not the build's fault: a missing program, a full disk, a bug.
        status = 'Error';
        error = err instanceof Error ? err.message : String(err);
      }
      error = redact(error ?? 'the build failed', secrets);
      log.line(`==> ${status}: ${error}`);
    } finally {
      clearTimeout(timer);
    }
    if (status === 'Succeeded') log.line('==> Succeeded');

    if (dir !== undefined) {
      await rm(dir, { recursive: true, force: true }).catch((err: unknown) =>
        log.line(`warning: could not remove ${dir}: ${(err as Error).message}`),
      );
    }
    await log.close();

    const result: BuildResult = {
      runId: build.runId,
      status,
      finishedAt: this.clock.now().toISOString(),
      outputImages,
      baseImages,
    };
    if (error !== undefined) result.error = error;
    try {
      await this.options.onResult(result);
    } catch (err) {
      console.error(`buildah builder: reporting the result of run ${build.runId} failed: ${(err as Error).message}`);
    }
  }
}

function abort(build: ActiveBuild, reason: AbortReason, detail: string): void {
  if (build.abortReason) return;
  build.abortReason = reason;
  build.abortDetail = detail;
  build.controller.abort();
}

type StepConfig = BuildahBuilderOptions & { buildah: string; git: string };

/** The steps of one build, sharing its temp dir, log, environment and credentials. */
class BuildSteps {
  private readonly signal: AbortSignal;
  private authFile = '';
  private env: NodeJS.ProcessEnv = {};
  private readonly localName: string;

  constructor(
    private readonly config: StepConfig,
    private readonly build: ActiveBuild,
    private readonly spec: BuildSpec,
    private readonly dir: string,
    private readonly log: RunLog,
    private readonly secrets: SecretToHide[],
  ) {
    this.signal = build.controller.signal;
    // Built under a name of its own, so removing it after the push never touches a name another
    // build pulled (a base built here and used by the next build is pushed, then pulled again).
    this.localName = `localhost/cascade-build/${randomBytes(8).toString('hex')}:latest`;
  }

  async run(outputImages: OutputImage[], baseImages: ResolvedBaseImage[]): Promise<void> {
    const contextDir = await this.prepareContext(this.spec.context);
    this.checkAborted();

    const dockerfilePath = await insideContext(contextDir, this.spec.dockerfile);
    const dockerfile = await readFile(dockerfilePath, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR') {
        throw new BuildStepError(`the Dockerfile ${this.spec.dockerfile} was not found in the build context`);
      }
      throw err;
    });
    const analysis = analyzeDockerfile(dockerfile, this.spec.buildArgs, { platform: this.spec.platform || undefined });
    if (analysis.unresolvedArgs.length > 0) {
      this.log.line(`warning: the Dockerfile uses build arguments with no value: ${analysis.unresolvedArgs.join(', ')}`);
    }

    await this.writeRegistryConfig(analysis.bases.map((b) => b.image.registry));
    await this.writeAuthFile();

    for (const base of analysis.bases) {
      this.checkAborted();
      baseImages.push(await this.pullBase(base, pullPlatform(base, analysis, this.spec.platform)));
    }

    this.checkAborted();
    await this.buildImage(contextDir, dockerfilePath);
    try {
      for (const image of this.spec.images) {
        this.checkAborted();
        outputImages.push(await this.push(`${this.spec.registry}/${image}`));
      }
    } finally {
      await this.buildah(['rmi', this.localName], { log: false }).catch(() => undefined);
    }
  }

  private checkAborted(): void {
    if (this.signal.aborted) throw new BuildStepError(this.build.abortDetail ?? 'the build was stopped');
  }

  private async prepareContext(context: BuildContext): Promise<string> {
    if (context.kind === 'local') {
      const path = resolve(context.path);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isDirectory()) throw new BuildStepError(`the build context ${context.path} is not a directory`);
      this.log.line(`==> using the local folder ${path}`);
      await this.logCommit(path);
      return path;
    }

    const checkout = join(this.dir, 'source');
    const url = withoutUserInfo(context.url);
    this.log.line(`==> cloning ${url} (branch ${context.branch})`);
    // `--` ends options: a URL or branch starting with "-" cannot become a git flag.
    const clone = await this.git(['clone', '--quiet', '--single-branch', '--branch', context.branch, '--', context.url, checkout]);
    if (clone.code !== 0) {
      throw new BuildStepError(`cloning ${url} (branch ${context.branch}) failed: ${lastErrorLine(clone.stderr) ?? 'git gave no reason'}`);
    }
    if (this.spec.commit) {
      if (!/^[0-9a-fA-F]{4,64}$/.test(this.spec.commit)) throw new BuildStepError(`"${this.spec.commit}" is not a commit id`);
      const checkoutResult = await this.git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', this.spec.commit], checkout);
      if (checkoutResult.code !== 0) {
        throw new BuildStepError(
          `checking out commit ${this.spec.commit} of ${url} failed: ${lastErrorLine(checkoutResult.stderr) ?? 'git gave no reason'}`,
        );
      }
    }
    await this.logCommit(checkout);
    const folder = await insideContext(checkout, context.folder || '.');
    const info = await stat(folder).catch(() => undefined);
    if (!info?.isDirectory()) throw new BuildStepError(`the folder ${context.folder} does not exist in ${url} (branch ${context.branch})`);
    return folder;
  }

  private async logCommit(dir: string): Promise<void> {
    const head = await this.git(['rev-parse', 'HEAD'], dir, false);
    if (head.code === 0) this.log.line(`commit: ${head.stdout.trim()}`);
  }

  private async writeRegistryConfig(baseRegistries: string[]): Promise<void> {
    const hosts = new Set([this.spec.registry, ...baseRegistries, ...this.spec.credentials.map((c) => c.loginServer)]);
    const insecure = new Set((this.config.insecureRegistries ?? []).map((h) => h.toLowerCase()));
    const lines = [
      // A private file replaces the system's, so plain HTTP is allowed for exactly these hosts.
      'unqualified-search-registries = ["docker.io"]',
      'short-name-mode = "permissive"',
    ];
    for (const host of hosts) {
      if (isLoopbackRegistry(host) || insecure.has(host.toLowerCase())) {
        lines.push('', '[[registry]]', `location = ${JSON.stringify(host)}`, 'insecure = true');
      }
    }
    const registriesConf = join(this.dir, 'registries.conf');
    await writeFile(registriesConf, lines.join('\n') + '\n');

    const storageConf = join(this.dir, 'storage.conf');
    const { root, runroot } = storagePaths(this.config.storageRoot);
    // The system's storage.conf may carry options for another driver that vfs rejects.
    await writeFile(
      storageConf,
      `[storage]\ndriver = "vfs"\ngraphroot = ${JSON.stringify(root)}\nrunroot = ${JSON.stringify(runroot)}\n`,
    );
    const tmp = join(this.dir, 'tmp');
    await mkdir(tmp);
    this.env = {
      ...process.env,
      CONTAINERS_REGISTRIES_CONF: registriesConf,
      CONTAINERS_STORAGE_CONF: storageConf,
      // buildah stages layers in TMPDIR; inside the build dir they go away with it.
      TMPDIR: tmp,
    };
  }

  private async writeAuthFile(): Promise<void> {
    const logins = new Map<string, RegistryLogin>();
    for (const credential of this.spec.credentials) {
      const host = authHost(credential.loginServer);
      if (credential.kind === 'identity') {
        throw new BuildStepError(
          `the credential for ${credential.loginServer} uses the AWS role ${credential.roleArn}, which only builds on AWS CodeBuild can assume; add a username and password credential for local builds`,
        );
      }
      const password = await this.config.secrets.get(credential.secretRef);
      if (password === undefined) {
        throw new BuildStepError(
          `the password of the credential for ${credential.loginServer} (user ${credential.username}) is missing from the secret store; add the credential again`,
        );
      }
      this.secrets.push({ username: credential.username, password });
      logins.set(host, { username: credential.username, password });
    }
    const pushHost = authHost(this.spec.registry);
    if (!logins.has(pushHost) && this.config.pushCredentials) {
      const login = await this.config.pushCredentials(this.spec.registry);
      if (login) {
        this.secrets.push(login);
        logins.set(pushHost, login);
      }
    }
    const auths: Record<string, { auth: string }> = {};
    for (const [host, login] of logins) {
      auths[host] = { auth: Buffer.from(`${login.username}:${login.password}`, 'utf8').toString('base64') };
    }
    this.authFile = join(this.dir, 'auth.json');
    // Always our own file, even empty, so buildah never falls back to the host user's logins.
    await writeFile(this.authFile, JSON.stringify({ auths }), { mode: 0o600 });
  }

  private async pullBase(base: Base, platform: string | undefined): Promise<ResolvedBaseImage> {
    const { image } = base;
    const name = `${image.registry}/${image.repository}`;
    const tag = image.tag ?? (image.digest ? undefined : 'latest');
    // A tag and a digest together are refused by the docker transport; the digest is what counts.
    const reference = image.digest ? `${name}@${image.digest}` : `${name}:${tag}`;
    const shown = tag !== undefined && image.digest ? `${name}:${tag}@${image.digest}` : reference;
    this.log.line(`==> pulling ${shown} (${base.stage}${base.pinned ? ', pinned' : ''})`);
    const args = ['pull', '--policy', 'always', ...PULL_RETRY, '--authfile', this.authFile];
    if (platform) args.push('--platform', platform);
    const pull = await this.buildah([...args, reference]);
    this.checkAborted();
    if (pull.code !== 0) throw new BuildStepError(`pulling ${shown} failed: ${registryReason(pull.stderr)}`);

    let digest = image.digest;
    if (digest === undefined) {
      const inspect = await this.buildah(['inspect', '--type', 'image', '--format', '{{.FromImageDigest}}', reference], { log: false });
      digest = inspect.stdout.trim();
      if (inspect.code !== 0 || !DIGEST.test(digest)) {
        throw new BuildStepError(`reading the digest of ${shown} failed: ${lastErrorLine(inspect.stderr) ?? `buildah printed "${digest}"`}`);
      }
    }
    this.log.line(`${shown} is ${digest}`);
    const resolved: ResolvedBaseImage = {
      registry: image.registry,
      repository: image.repository,
      digest,
      stage: base.stage,
      pinned: base.pinned,
    };
    if (tag !== undefined) resolved.tag = tag;
    return resolved;
  }

  private async buildImage(contextDir: string, dockerfilePath: string): Promise<void> {
    this.log.line(`==> building ${this.spec.dockerfile}`);
    // --pull=never: the build uses exactly the images pulled above, whose digests are recorded.
    const args = ['build', '--isolation', 'chroot', '--pull=never', '--authfile', this.authFile, '-f', dockerfilePath, '-t', this.localName];
    if (this.spec.platform) args.push('--platform', this.spec.platform);
    for (const [key, value] of Object.entries(this.spec.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    const build = await this.buildah([...args, contextDir]);
    this.checkAborted();
    if (build.code !== 0) throw new BuildStepError(`building the image failed: ${buildReason(build.stderr)}`);
  }

  private async push(reference: string): Promise<OutputImage> {
    this.log.line(`==> pushing ${reference}`);
    const digestFile = join(this.dir, `digest-${randomBytes(4).toString('hex')}`);
    const push = await this.buildah([
      'push',
      '--authfile',
      this.authFile,
      '--digestfile',
      digestFile,
      this.localName,
      `docker://${reference}`,
    ]);
    this.checkAborted();
    if (push.code !== 0) throw new BuildStepError(`pushing ${reference} failed: ${registryReason(push.stderr)}`);
    const digest = (await readFile(digestFile, 'utf8').catch(() => '')).trim();
    if (!DIGEST.test(digest)) throw new BuildStepError(`pushing ${reference} failed: buildah wrote no digest`);
    this.log.line(`${reference} is ${digest}`);
    return { reference, digest };
  }

  private async buildah(args: string[], opts: { log?: boolean } = {}): Promise<CommandResult> {
    const { root, runroot } = storagePaths(this.config.storageRoot);
    const global = ['--storage-driver', 'vfs', '--root', root, '--runroot', runroot];
    return this.exec(this.config.buildah, [...global, ...args], this.dir, opts.log ?? true, 'install it with apt-get install buildah');
  }

  private git(args: string[], cwd: string = this.dir, log = true): Promise<CommandResult> {
    return this.exec(this.config.git, args, cwd, log, 'install it with apt-get install git');
  }

  private async exec(command: string, args: string[], cwd: string, log: boolean, install: string): Promise<CommandResult> {
    const env = {
      ...(Object.keys(this.env).length > 0 ? this.env : process.env),
      // A clone must fail, not wait for a password nobody will type.
      GIT_TERMINAL_PROMPT: '0',
    };
    try {
      return await runCommand(command, args, {
        cwd,
        env,
        signal: this.signal,
        onOutput: log ? (_stream, text) => this.log.write(text) : undefined,
      });
    } catch (err) {
      if (err instanceof CommandNotFoundError) throw new Error(`${err.message} (${install})`);
      throw err;
    } finally {
      this.log.endPartialLine();
    }
  }
}

type Base = DockerfileAnalysis['bases'][number];

/**
 * The platform a stage's base is pulled for: its own `FROM --platform` when it has one, the
 * build's otherwise. `$BUILDPLATFORM` and the like stay unexpanded there and mean this machine.
 */
function pullPlatform(base: Base, analysis: DockerfileAnalysis, buildPlatform: string): string | undefined {
  const own = analysis.stages[base.stageIndex]?.platform;
  if (own !== undefined) return own.includes('$') ? undefined : own;
  return buildPlatform || undefined;
}

/** A run id as it may appear in a file name: it is not trusted to be one. */
function safeName(runId: string): string {
  return runId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'run';
}

function storagePaths(storageRoot: string): { root: string; runroot: string } {
  const base = resolve(storageRoot);
  return { root: join(base, 'root'), runroot: join(base, 'runroot') };
}

/** Resolves `path` inside `root`, refusing anything (`..`, absolute paths, symlinks) that leads out. */
async function insideContext(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  const target = resolve(realRoot, path);
  const escapes = (p: string) => {
    const rel = relative(realRoot, p);
    return rel.startsWith('..') || isAbsolute(rel);
  };
  if (isAbsolute(path) || escapes(target)) throw new BuildStepError(`${path} is outside the build context`);
  const real = await realpath(target).catch(() => target);
  if (escapes(real)) throw new BuildStepError(`${path} is outside the build context`);
  return real;
}

/** authfile keys: Docker Hub's aliases all mean `docker.io`. */
function authHost(loginServer: string): string {
  const host = loginServer.toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function withoutUserInfo(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = '';
      parsed.password = '';
      return parsed.toString();
    }
  } catch {
    // scp-like git URLs (git@host:repo) are not URLs and carry no password.
  }
  return url;
}

function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  if (ms % 1_000 === 0) return `${ms / 1_000} second${ms === 1_000 ? '' : 's'}`;
  return `${ms} ms`;
}

/**
 * A run's log as buildah writes it: whole lines only, secrets redacted, appended in order.
 * Lines are kept whole so that a secret split across two output chunks is still found.
 */
class RunLog {
  private partial = '';
  private chain: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    private readonly logs: LogStore,
    private readonly runId: string,
    private readonly secrets: readonly SecretToHide[],
  ) {}

  write(text: string): void {
    this.partial += text;
    const end = this.partial.lastIndexOf('\n');
    if (end < 0 && this.partial.length < 64 << 10) return;
    const whole = end < 0 ? this.partial : this.partial.slice(0, end + 1);
    this.partial = end < 0 ? '' : this.partial.slice(end + 1);
    this.emit(whole);
  }

  line(text: string): void {
    this.endPartialLine();
    this.emit(text + '\n');
  }

  /** A command ended without a final newline: what it left goes out as a line of its own. */
  endPartialLine(): void {
    if (this.partial.length === 0) return;
    const rest = this.partial;
    this.partial = '';
    this.emit(rest.endsWith('\n') ? rest : rest + '\n');
  }

  async close(): Promise<void> {
    this.endPartialLine();
    await this.chain;
  }

  private emit(text: string): void {
    const safe = redact(text, this.secrets);
    this.chain = this.chain.then(() =>
      this.logs.append(this.runId, safe).catch((err: unknown) => {
        // A log that cannot be written must not fail the build; say so once.
        if (!this.failed) console.error(`buildah builder: writing the log of run ${this.runId} failed: ${(err as Error).message}`);
        this.failed = true;
      }),
    );
  }
}
