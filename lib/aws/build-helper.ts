// The part of a CodeBuild build that is easier in TypeScript than in the buildspec's bash: it
// reads the Dockerfile with the same analysis local builds use, plans the registry logins, and
// turns what docker printed into the JSON the build exports. infra/buildspec.cjs bundles it into
// the buildspec; it never sees a password except to hand one to `docker login --password-stdin`.
//
//   node helper.js plan-logins                 ecr|basic lines, one per registry to log in to
//   node helper.js password VAR raw|json       the password held in $VAR, on stdout, no newline
//   node helper.js bases                       the bases to pull: "<reference>\t<platform or ->\t<ECR region or ->",
//                                              the region when no credential covers that ECR registry (the build's role pulls)
//   node helper.js build-args                  NUL-separated `--build-arg K=V` words for docker build
//   node helper.js targets                     the references to push, one per line
//   node helper.js base-images FILE            JSON ResolvedBaseImage[] from "<reference>\t<digest>" lines
//   node helper.js output-images FILE          JSON OutputImage[] from "<reference>\t<digest>" lines
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeDockerfile, type DockerfileAnalysis } from '../dockerfile/analyze';
import { CascadeError } from '../domain/errors';
import type { OutputImage, ResolvedBaseImage } from '../domain/types';
import { BUILD_ENV, ecrRegion, type BasicLogin, type PullRole } from './build-variables';

type Env = Record<string, string | undefined>;

export interface HelperIo {
  env: Env;
  /** Working directory of the build: the context folder. */
  cwd: string;
  /** Scratch directory the helper keeps its state in between commands. */
  workDir: string;
  out(text: string): void;
  err(text: string): void;
}

/** A build input the helper cannot use; the message is what the run's error will say. */
export class BuildInputError extends CascadeError {
  readonly status = 422;
  readonly code = 'build_input';
}

interface PlannedBase {
  reference: string;
  platform?: string;
  resolved: Omit<ResolvedBaseImage, 'digest'> & { digest?: string };
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function runHelper(argv: string[], io: HelperIo): void {
  const [command, ...args] = argv;
  switch (command) {
    case 'plan-logins':
      for (const line of planLogins(io.env)) io.out(`${line.join('\t')}\n`);
      return;
    case 'password':
      io.out(password(io.env, args[0], args[1]));
      return;
    case 'bases': {
      const planned = planBases(io);
      writeFileSync(join(io.workDir, 'bases.json'), JSON.stringify(planned));
      const covered = new Set(planLogins(io.env).map((line) => (line[1] ?? '').toLowerCase()));
      for (const base of planned) {
        const region = covered.has(base.resolved.registry) ? undefined : ecrRegion(base.resolved.registry);
        io.out(`${base.reference}\t${base.platform ?? '-'}\t${region ?? '-'}\n`);
      }
      return;
    }
    case 'build-args':
      for (const [key, value] of Object.entries(jsonObject(io.env, BUILD_ENV.buildArgs))) io.out(`--build-arg\0${key}=${value}\0`);
      return;
    case 'targets':
      for (const target of targets(io.env)) io.out(`${target}\n`);
      return;
    case 'base-images':
      io.out(JSON.stringify(baseImages(io.workDir, readPairs(args[0]))));
      return;
    case 'output-images':
      io.out(JSON.stringify(readPairs(args[0]).map(([reference, digest]): OutputImage => ({ reference, digest }))));
      return;
    default:
      throw new BuildInputError(`unknown helper command "${command ?? ''}"`);
  }
}

/** Task credentials first, then the push registry's own login if no credential covers it. */
export function planLogins(env: Env): string[][] {
  const lines: string[][] = [];
  const seen = new Set<string>();
  for (const role of jsonArray<PullRole>(env, BUILD_ENV.pullRoles)) {
    const region = ecrRegion(role.loginServer);
    if (!region) throw new BuildInputError(`${role.loginServer} is not an Amazon ECR registry, so the role ${role.roleArn} cannot log in to it`);
    lines.push(['ecr', role.loginServer, region, role.roleArn]);
    seen.add(role.loginServer.toLowerCase());
  }
  for (const login of jsonArray<BasicLogin>(env, BUILD_ENV.basicLogins)) {
    lines.push(['basic', login.loginServer, login.username, login.passwordVariable, 'raw']);
    seen.add(login.loginServer.toLowerCase());
  }
  const registry = required(env, BUILD_ENV.registry);
  if (!seen.has(registry.toLowerCase())) {
    const region = ecrRegion(registry);
    if (region) {
      lines.push(['ecr', registry, region, '-']);
    } else if (env[BUILD_ENV.pushLogin]) {
      lines.push(['basic', registry, storedLogin(env, BUILD_ENV.pushLogin).username, BUILD_ENV.pushLogin, 'json']);
    }
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

export function planBases(io: Pick<HelperIo, 'env' | 'cwd' | 'err'>): PlannedBase[] {
  const file = required(io.env, BUILD_ENV.dockerfile);
  const path = join(io.cwd, file);
  if (!existsSync(path)) throw new BuildInputError(`the Dockerfile ${file} was not found in the build context`);
  const platform = io.env[BUILD_ENV.platform] || undefined;
  const analysis = analyzeDockerfile(readFileSync(path, 'utf8'), jsonObject(io.env, BUILD_ENV.buildArgs), { platform });
  if (analysis.unresolvedArgs.length > 0) {
    io.err(`warning: the Dockerfile uses build arguments with no value: ${analysis.unresolvedArgs.join(', ')}\n`);
  }
  return analysis.bases.map((base) => {
    const { image } = base;
    const name = `${image.registry}/${image.repository}`;
    const tag = image.tag ?? (image.digest ? undefined : 'latest');
    const resolved: PlannedBase['resolved'] = {
      registry: image.registry,
      repository: image.repository,
      stage: base.stage,
      pinned: base.pinned,
      ...(tag !== undefined && { tag }),
      ...(image.digest !== undefined && { digest: image.digest }),
    };
    const pullPlatform = platformFor(base, analysis, platform);
    return {
      // docker refuses a tag and a digest together; the digest is what counts.
      reference: image.digest ? `${name}@${image.digest}` : `${name}:${tag}`,
      ...(pullPlatform !== undefined && { platform: pullPlatform }),
      resolved,
    };
  });
}

/** A stage's own `FROM --platform` wins; `$BUILDPLATFORM` and the like mean this machine. */
function platformFor(base: DockerfileAnalysis['bases'][number], analysis: DockerfileAnalysis, buildPlatform: string | undefined): string | undefined {
  const own = analysis.stages[base.stageIndex]?.platform;
  if (own !== undefined) return own.includes('$') ? undefined : own;
  return buildPlatform;
}

function targets(env: Env): string[] {
  const images = jsonArray<unknown>(env, BUILD_ENV.images);
  if (images.length === 0 || images.some((i) => typeof i !== 'string' || i === '')) {
    throw new BuildInputError(`${BUILD_ENV.images} must be a non-empty JSON array of image references`);
  }
  return images as string[];
}

/** The planned bases with the digests docker pulled; a base that was not pulled is left out. */
function baseImages(workDir: string, pulled: Array<[string, string]>): ResolvedBaseImage[] {
  const file = join(workDir, 'bases.json');
  if (!existsSync(file)) return [];
  const planned = JSON.parse(readFileSync(file, 'utf8')) as PlannedBase[];
  const digests = new Map(pulled.map(([reference, digest]) => [reference, digest]));
  const out: ResolvedBaseImage[] = [];
  for (const base of planned) {
    const digest = base.resolved.digest ?? digests.get(base.reference);
    if (digest && DIGEST.test(digest)) out.push({ ...base.resolved, digest });
  }
  return out;
}

function readPairs(file: string | undefined): Array<[string, string]> {
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim().split('\t'))
    .filter((pair): pair is [string, string] => pair.length === 2 && pair[0] !== '' && DIGEST.test(pair[1] ?? ''));
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

/** The entry point the buildspec runs: state lives in $CASCADE_WORK, the context is the cwd. */
export function main(argv = process.argv.slice(2)): void {
  const workDir = process.env.CASCADE_WORK;
  try {
    if (!workDir) throw new BuildInputError('CASCADE_WORK is not set');
    runHelper(argv, {
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
