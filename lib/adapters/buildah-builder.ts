// The local builder: clones the context and gives buildah the build's registry logins, then
// runs the build steps CodeBuild runs too (lib/build/build-steps.ts: pull every base recording
// its digest, build, push) with buildah. Builds run in the background; each start() ends in
// exactly one onResult().
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BuildahTool } from '../build/buildah-tool';
import { BuildStepError, insideContext, readBuildPlan, runBuildSteps, type BuildRecord } from '../build/build-steps';
import { readTaskFilePlan, runTaskFileSteps, taskFileRegistries } from '../build/task-file-steps';
import { isTaskFile } from '../taskfile/task-file';
import { CommandNotFoundError, runCommand, type CommandResult } from '../build/run-command';
import { CascadeError } from '../domain/errors';
import type { Builder, BuildRequest, Clock, LogStore, SecretStore } from '../domain/ports';
import { systemClock } from '../domain/ports';
import type { BuildContext, BuildResult, BuildSpec, RunStep } from '../domain/types';
import { isLoopbackHost, normalizeRegistry } from '../images/reference';
import { lastErrorLine } from './buildah-errors';
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
    // A run asked to start again while its build runs (a retried start, the reconciler) gets that build.
    for (const build of this.active.values()) if (build.runId === request.runId) return { buildId: build.buildId };
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
    const record: BuildRecord & { steps?: RunStep[] } = { baseImages: [], outputImages: [] };
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
      await new LocalBuild(config, build, spec, dir, log, secrets).run(record);
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
      outputImages: record.outputImages,
      baseImages: record.baseImages,
      ...(record.steps !== undefined && { steps: record.steps }),
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

/** The local part of one build (context, logins) around the shared steps; one temp dir, log and set of credentials. */
class LocalBuild {
  private readonly signal: AbortSignal;

  constructor(
    private readonly config: StepConfig,
    private readonly build: ActiveBuild,
    private readonly spec: BuildSpec,
    private readonly dir: string,
    private readonly log: RunLog,
    private readonly secrets: SecretToHide[],
  ) {
    this.signal = build.controller.signal;
  }

  async run(record: BuildRecord & { steps?: RunStep[] }): Promise<void> {
    const contextDir = await this.prepareContext(this.spec.context);
    this.checkAborted();
    if (isTaskFile(this.spec.dockerfile)) return this.runTaskFile(contextDir, record);
    const plan = await readBuildPlan({ contextDir, dockerfile: this.spec.dockerfile, buildArgs: this.spec.buildArgs, platform: this.spec.platform });

    // buildah's logins: where plain HTTP is allowed, and the task's credentials.
    const registriesConf = await this.writeRegistriesConf(plan.bases.map((b) => b.resolved.registry));
    const authFile = await this.writeAuthFile();
    const buildah = await BuildahTool.create({
      run: (args, opts = {}) => this.exec(this.config.buildah, args, { ...opts, install: 'install it with apt-get install buildah' }),
      storageRoot: this.config.storageRoot,
      workDir: this.dir,
      registriesConf,
      authFile,
    });
    // Built under a name of its own, so removing it after the push never touches a name another
    // build pulled (a base built here and used by the next build is pushed, then pulled again).
    const localName = `localhost/cascade-build/${randomBytes(8).toString('hex')}:latest`;
    try {
      await runBuildSteps(plan, buildah, {
        targets: this.spec.images.map((image) => `${this.spec.registry}/${image}`),
        localName,
        log: (line) => this.log.line(line),
        record,
        signal: this.signal,
      });
    } finally {
      await buildah.remove(localName);
    }
  }

  /** A task file: its steps with buildah, under the same logins a Dockerfile build gets. */
  private async runTaskFile(contextDir: string, record: BuildRecord & { steps?: RunStep[] }): Promise<void> {
    const plan = await readTaskFilePlan({ contextDir, taskFile: this.spec.dockerfile, values: this.spec.values ?? {}, platform: this.spec.platform });
    const buildah = await BuildahTool.create({
      run: (args, opts = {}) => this.exec(this.config.buildah, args, { ...opts, install: 'install it with apt-get install buildah' }),
      storageRoot: this.config.storageRoot,
      workDir: this.dir,
      registriesConf: await this.writeRegistriesConf(taskFileRegistries(plan)),
      authFile: await this.writeAuthFile(),
    });
    const built: string[] = [];
    record.steps = [];
    try {
      await runTaskFileSteps(plan, buildah, {
        localNamePrefix: `localhost/cascade-build/${randomBytes(8).toString('hex')}`,
        log: (line) => this.log.line(line),
        record,
        steps: record.steps,
        built,
        signal: this.signal,
        now: () => this.config.clock?.now() ?? new Date(),
      });
    } finally {
      for (const name of built) await buildah.remove(name);
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

  private async writeRegistriesConf(baseRegistries: string[]): Promise<string> {
    const hosts = new Set([this.spec.registry, ...baseRegistries, ...this.spec.credentials.map((c) => c.loginServer)]);
    const insecure = new Set((this.config.insecureRegistries ?? []).map((h) => h.toLowerCase()));
    const lines = [
      // A private file replaces the system's, so plain HTTP is allowed for exactly these hosts.
      'unqualified-search-registries = ["docker.io"]',
      'short-name-mode = "permissive"',
    ];
    for (const host of hosts) {
      if (isLoopbackHost(host) || insecure.has(host.toLowerCase())) {
        lines.push('', '[[registry]]', `location = ${JSON.stringify(host)}`, 'insecure = true');
      }
    }
    const registriesConf = join(this.dir, 'registries.conf');
    await writeFile(registriesConf, lines.join('\n') + '\n');
    return registriesConf;
  }

  private async writeAuthFile(): Promise<string> {
    const logins = new Map<string, RegistryLogin>();
    for (const credential of this.spec.credentials) {
      const host = normalizeRegistry(credential.loginServer);
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
    const pushHost = normalizeRegistry(this.spec.registry);
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
    const authFile = join(this.dir, 'auth.json');
    // Always our own file, even empty, so buildah never falls back to the host user's logins.
    await writeFile(authFile, JSON.stringify({ auths }), { mode: 0o600 });
    return authFile;
  }

  private git(args: string[], cwd: string = this.dir, log = true): Promise<CommandResult> {
    return this.exec(this.config.git, args, { cwd, quiet: !log, install: 'install it with apt-get install git' });
  }

  private async exec(
    command: string,
    args: string[],
    opts: { cwd?: string; env?: Record<string, string>; quiet?: boolean; signal?: AbortSignal; output?: (text: string) => void; install: string },
  ): Promise<CommandResult> {
    // A clone must fail, not wait for a password nobody will type.
    const env = { ...process.env, ...opts.env, GIT_TERMINAL_PROMPT: '0' };
    // A step's output goes through its own writer (prefixed lines), stopped by its own signal too.
    const output = opts.output;
    try {
      return await runCommand(command, args, {
        cwd: opts.cwd ?? this.dir,
        env,
        signal: opts.signal ?? this.signal,
        onOutput: opts.quiet ? undefined : (_stream, text) => (output ? output(text) : this.log.write(text)),
      });
    } catch (err) {
      if (err instanceof CommandNotFoundError) throw new Error(`${err.message} (${opts.install})`);
      throw err;
    } finally {
      if (!output) this.log.endPartialLine();
    }
  }
}

/** A run id as it may appear in a file name: it is not trusted to be one. */
function safeName(runId: string): string {
  return runId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'run';
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
