// The part of a CodeBuild build that is TypeScript rather than the buildspec's bash: it plans the
// registry logins, and after them runs the build steps local builds run too (lib/build/
// build-steps.ts) with docker, writing what they produced where the buildspec exports it from.
// infra/buildspec.cjs bundles it into the buildspec; it never sees a password except to hand one
// to `docker login --password-stdin`. Every command runs in the context folder.
//
//   node helper.js plan-logins                 ecr|basic lines, one per registry to log in to: the task's
//                                              credentials, the push registry, and ECR bases no credential covers
//   node helper.js password VAR raw|json       the password held in $VAR, on stdout, no newline
//   node helper.js run-steps                   pulls the bases, builds, pushes; writes $CASCADE_WORK/base-images.json
//                                              and output-images.json (JSON ResolvedBaseImage[] / OutputImage[]),
//                                              also after a failure, whose reason main() writes to $CASCADE_WORK/error
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBuildPlan, runBuildSteps, type BuildInput, type BuildRecord } from '../build/build-steps';
import { readTaskFilePlan, runTaskFileSteps, taskFileRegistries, type TaskFilePlan } from '../build/task-file-steps';
import type { RunStep } from '../domain/types';
import { isTaskFile } from '../taskfile/task-file';
import type { ContainerTool } from '../build/container-tool';
import { DockerTool } from '../build/docker-tool';
import { runCommand } from '../build/run-command';
import { CascadeError } from '../domain/errors';
import { normalizeRegistry } from '../images/reference';
import { BUILD_ENV, ecrRegion, type BasicLogin, type PullRole } from './build-variables';

type Env = Record<string, string | undefined>;

export interface HelperIo {
  env: Env;
  /** Working directory of the build: the context folder. */
  cwd: string;
  /** Scratch directory the helper writes its results to. */
  workDir: string;
  out(text: string): void;
  err(text: string): void;
  /** What run-steps pulls, builds and pushes with; docker on the PATH when not given. */
  tool?: ContainerTool;
}

/** A build input the helper cannot use; the message is what the run's error will say. */
export class BuildInputError extends CascadeError {
  readonly status = 422;
  readonly code = 'build_input';
}

/** Where run-steps leaves the build's report in $CASCADE_WORK; the buildspec exports these files. */
export const RESULT_FILES = { baseImages: 'base-images.json', outputImages: 'output-images.json', steps: 'steps.json' } as const;

export async function runHelper(argv: string[], io: HelperIo): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'plan-logins': {
      const input = buildInput(io);
      // A task file's registries: every build step's bases, the images its cmd steps run, where it pushes.
      const registries = isTaskFile(input.dockerfile)
        ? taskFileRegistries(await readTaskFile(io))
        : (await readBuildPlan(input)).bases.map((base) => base.resolved.registry);
      for (const line of planLogins(io.env, registries)) io.out(`${line.join('\t')}\n`);
      return;
    }
    case 'password':
      io.out(password(io.env, args[0], args[1]));
      return;
    case 'run-steps':
      return isTaskFile(required(io.env, BUILD_ENV.dockerfile)) ? runTaskFile(io) : runSteps(io);
    default:
      throw new BuildInputError(`unknown helper command "${command ?? ''}"`);
  }
}

/**
 * Task credentials first, then the push registry's own login if no credential covers it, then
 * the build's own role for ECR base registries nobody else logs in to.
 */
export function planLogins(env: Env, baseRegistries: string[] = []): string[][] {
  const lines: string[][] = [];
  const seen = new Set<string>();
  for (const role of jsonArray<PullRole>(env, BUILD_ENV.pullRoles)) {
    const region = ecrRegion(role.loginServer);
    if (!region) throw new BuildInputError(`${role.loginServer} is not an Amazon ECR registry, so the role ${role.roleArn} cannot log in to it`);
    lines.push(['ecr', role.loginServer, region, role.roleArn]);
    seen.add(normalizeRegistry(role.loginServer));
  }
  for (const login of jsonArray<BasicLogin>(env, BUILD_ENV.basicLogins)) {
    lines.push(['basic', login.loginServer, login.username, login.passwordVariable, 'raw']);
    seen.add(normalizeRegistry(login.loginServer));
  }
  const registry = required(env, BUILD_ENV.registry);
  if (!seen.has(normalizeRegistry(registry))) {
    const region = ecrRegion(registry);
    if (region) {
      lines.push(['ecr', registry, region, '-']);
    } else if (env[BUILD_ENV.pushLogin]) {
      lines.push(['basic', registry, storedLogin(env, BUILD_ENV.pushLogin).username, BUILD_ENV.pushLogin, 'json']);
    }
    seen.add(normalizeRegistry(registry));
  }
  for (const host of baseRegistries) {
    const region = ecrRegion(host);
    if (region && !seen.has(normalizeRegistry(host))) lines.push(['ecr', host, region, '-']);
    seen.add(normalizeRegistry(host));
  }
  return lines;
}

function password(env: Env, variable: string | undefined, form: string | undefined): string {
  if (!variable || !/^CASCADE_[A-Z0-9_]+$/.test(variable)) throw new BuildInputError('password needs the name of a CASCADE_ variable');
  if (form === 'json') return storedLogin(env, variable).password;
  const value = env[variable];
  if (!value) throw new BuildInputError(`${variable} is empty: the credential's password is missing from Parameter Store`);
  return value;
}

/** A stored registry login (`cascade registry login`) is JSON `{ username, password }`. */
function storedLogin(env: Env, variable: string): { username: string; password: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(env[variable] ?? '');
  } catch {
    // Never echo the value: it is a secret.
    throw new BuildInputError(`${variable} is not a stored registry login`);
  }
  const login = parsed as { username?: unknown; password?: unknown };
  if (typeof login?.username !== 'string' || typeof login.password !== 'string') {
    throw new BuildInputError(`${variable} is not a stored registry login`);
  }
  return { username: login.username, password: login.password };
}

/** The shared build steps with docker, reporting into $CASCADE_WORK whether they succeed or not. */
async function runSteps(io: HelperIo): Promise<void> {
  const targets = imageTargets(io.env);
  // docker names are lower case; run ids are already, this is for a hand-started build.
  const localName = `cascade-build/${required(io.env, BUILD_ENV.runId).toLowerCase().replace(/[^a-z0-9._-]/g, '-')}:latest`;
  const record: BuildRecord = { baseImages: [], outputImages: [] };
  try {
    const plan = await readBuildPlan(buildInput(io));
    await runBuildSteps(plan, io.tool ?? dockerOnPath(io), { targets, localName, log: (line) => io.out(`${line}\n`), record });
  } finally {
    // A failed build still records the bases it pulled.
    writeFileSync(join(io.workDir, RESULT_FILES.baseImages), JSON.stringify(record.baseImages));
    writeFileSync(join(io.workDir, RESULT_FILES.outputImages), JSON.stringify(record.outputImages));
  }
}

/** A task file's steps with docker, reporting the same files and each step's status. */
async function runTaskFile(io: HelperIo): Promise<void> {
  const runId = required(io.env, BUILD_ENV.runId).toLowerCase().replace(/[^a-z0-9._-]/g, '-');
  const record: BuildRecord = { baseImages: [], outputImages: [] };
  const steps: RunStep[] = [];
  try {
    const plan = await readTaskFile(io);
    await runTaskFileSteps(plan, io.tool ?? dockerOnPath(io), { localNamePrefix: `cascade-build/${runId}`, log: (line) => io.out(`${line}\n`), record, steps, built: [] });
  } finally {
    writeFileSync(join(io.workDir, RESULT_FILES.baseImages), JSON.stringify(record.baseImages));
    writeFileSync(join(io.workDir, RESULT_FILES.outputImages), JSON.stringify(record.outputImages));
    // Exported as one variable: a step's error is kept short.
    writeFileSync(join(io.workDir, RESULT_FILES.steps), JSON.stringify(steps.map((s) => (s.error ? { ...s, error: s.error.slice(0, 300) } : s))));
  }
}

function readTaskFile(io: Pick<HelperIo, 'env' | 'cwd'>): Promise<TaskFilePlan> {
  const values = jsonObject(io.env, BUILD_ENV.templateValues);
  return readTaskFilePlan({ contextDir: io.cwd, taskFile: required(io.env, BUILD_ENV.dockerfile), values, platform: io.env[BUILD_ENV.platform] ?? '' });
}

function buildInput(io: Pick<HelperIo, 'env' | 'cwd'>): BuildInput {
  return {
    contextDir: io.cwd,
    dockerfile: required(io.env, BUILD_ENV.dockerfile),
    buildArgs: jsonObject(io.env, BUILD_ENV.buildArgs),
    platform: io.env[BUILD_ENV.platform] ?? '',
  };
}

/** docker's output goes to the build log as it comes; the buildspec logged docker in already. */
function dockerOnPath(io: HelperIo): DockerTool {
  // CodeBuild stops a build by ending its container: nothing here needs to stop docker first.
  const { signal } = new AbortController();
  // A task file's step gives its own writer (lines prefixed with its id) and its own timeout.
  return new DockerTool((args, opts = {}) =>
    runCommand('docker', args, {
      cwd: opts.cwd ?? io.cwd,
      env: { ...io.env, ...opts.env },
      signal: opts.signal ?? signal,
      onOutput: opts.quiet ? undefined : (stream, text) => (opts.output ? opts.output(text) : stream === 'stdout' ? io.out(text) : io.err(text)),
    }),
  );
}

function imageTargets(env: Env): string[] {
  const images = jsonArray<unknown>(env, BUILD_ENV.images);
  if (images.length === 0 || images.some((i) => typeof i !== 'string' || i === '')) {
    throw new BuildInputError(`${BUILD_ENV.images} must be a non-empty JSON array of image references`);
  }
  return images as string[];
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new BuildInputError(`${name} is not set; the build was not started by cascade`);
  return value;
}

function jsonArray<T>(env: Env, name: string): T[] {
  const value = parseJson(env, name, '[]');
  if (!Array.isArray(value)) throw new BuildInputError(`${name} must be a JSON array`);
  return value as T[];
}

function jsonObject(env: Env, name: string): Record<string, string> {
  const value = parseJson(env, name, '{}');
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new BuildInputError(`${name} must be a JSON object of strings`);
  }
  return value as Record<string, string>;
}

function parseJson(env: Env, name: string, fallback: string): unknown {
  try {
    return JSON.parse(env[name] || fallback);
  } catch {
    throw new BuildInputError(`${name} is not valid JSON`);
  }
}

/** The entry point the buildspec runs: results go to $CASCADE_WORK, the context is the cwd. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const workDir = process.env.CASCADE_WORK;
  try {
    if (!workDir) throw new BuildInputError('CASCADE_WORK is not set');
    await runHelper(argv, {
      env: process.env,
      cwd: process.cwd(),
      workDir,
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`cascade: ${message}\n`);
    // The buildspec exports this file's first line as the run's error.
    if (workDir) writeFileSync(join(workDir, 'error'), `${message}\n`);
    process.exitCode = 1;
  }
}
