// The steps every cascade build takes once its context is on disk and its registries are logged
// in to, whichever engine runs them: read and analyse the Dockerfile, pull each base recording
// the exact digest, build on exactly those, push each target recording its digest. The local
// builder runs them with buildah, the CodeBuild buildspec (through the build helper) with docker.
//
//   const plan = await readBuildPlan({ contextDir, dockerfile, buildArgs, platform });
//   // … logins, which differ per engine, for plan.bases …
//   await runBuildSteps(plan, tool, { targets, localName, log, record });
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { analyzeDockerfile, type DockerfileAnalysis, type DockerfileBase } from '../dockerfile/analyze';
import { CascadeError } from '../domain/errors';
import type { OutputImage, ResolvedBaseImage } from '../domain/types';
import { ContainerToolError, type ContainerTool } from './container-tool';

/** A build step failed for a reason the build's inputs or its registries explain. */
export class BuildStepError extends CascadeError {
  readonly status = 422;
  readonly code = 'build_failed';
}

export interface BuildInput {
  contextDir: string;
  /** As the task names it, relative to the context. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Empty or undefined: the machine's own. */
  platform?: string;
}

export interface PlannedBase {
  /** What is pulled: a tag and a digest together are refused by docker and buildah alike, so the digest wins. */
  reference: string;
  /** How logs and errors name it: tag and digest both, when the FROM has both. */
  shown: string;
  platform?: string;
  /** The record of the base, short of the digest a pull finds (a pinned one already has it). */
  resolved: Omit<ResolvedBaseImage, 'digest'> & { digest?: string };
}

export interface BuildPlan {
  /** Symlinks resolved. */
  contextDir: string;
  /** As the task names it. */
  dockerfile: string;
  /** The same file's path inside `contextDir`. */
  dockerfilePath: string;
  buildArgs: Record<string, string>;
  platform?: string;
  /** `--target` (a task file's build step). */
  target?: string;
  bases: PlannedBase[];
  /** Build args FROM lines use with no value, worth a warning in the log. */
  unresolvedArgs: string[];
}

/** What a build produced so far; filled in as it goes, so a failed build still reports the bases it pulled. */
export interface BuildRecord {
  baseImages: ResolvedBaseImage[];
  outputImages: OutputImage[];
}

export interface BuildStepsOptions {
  /** Fully qualified references to push. */
  targets: string[];
  /** The name the image is built under, between build and push. */
  localName: string;
  log: (line: string) => void;
  record: BuildRecord;
  signal?: AbortSignal;
}

/** Reads and analyses the Dockerfile: which bases a build pulls, for which platform. */
export async function readBuildPlan(input: BuildInput): Promise<BuildPlan> {
  const contextDir = await realpath(input.contextDir);
  const path = await insideContext(contextDir, input.dockerfile);
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'EISDIR') {
      throw new BuildStepError(`the Dockerfile ${input.dockerfile} was not found in the build context`);
    }
    throw err;
  });
  return planFromText(text, { contextDir, dockerfile: input.dockerfile, dockerfilePath: relative(contextDir, path), buildArgs: input.buildArgs, platform: input.platform });
}

/** The plan of a Dockerfile already read: `dockerfilePath` is where the tool finds it from `contextDir`. */
export function planFromText(
  text: string,
  input: { contextDir: string; dockerfile: string; dockerfilePath: string; buildArgs: Record<string, string>; platform?: string; target?: string },
): BuildPlan {
  const platform = input.platform || undefined;
  const analysis = analyzeDockerfile(text, input.buildArgs, { platform, ...(input.target !== undefined && { targetStage: input.target }) });
  return {
    contextDir: input.contextDir,
    dockerfile: input.dockerfile,
    dockerfilePath: input.dockerfilePath,
    buildArgs: input.buildArgs,
    ...(platform !== undefined && { platform }),
    ...(input.target !== undefined && { target: input.target }),
    bases: analysis.bases.map((base) => planBase(base, pullPlatform(base, analysis, platform))),
    unresolvedArgs: analysis.unresolvedArgs,
  };
}

/** Pulls, builds and pushes as the plan says; throws BuildStepError with the reason when a step fails. */
export async function runBuildSteps(plan: BuildPlan, tool: ContainerTool, options: BuildStepsOptions): Promise<void> {
  const { log, record } = options;
  const step = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    options.signal?.throwIfAborted();
    try {
      return await call();
    } catch (err) {
      if (err instanceof ContainerToolError) throw new BuildStepError(`${what} failed: ${err.message}`, { cause: err });
      throw err;
    } finally {
      // A stopped build fails its command too; the stop is the reason, not the command's output.
      options.signal?.throwIfAborted();
    }
  };

  if (plan.unresolvedArgs.length > 0) {
    log(`warning: the Dockerfile uses build arguments with no value: ${plan.unresolvedArgs.join(', ')}`);
  }
  for (const base of plan.bases) {
    const { resolved } = base;
    log(`==> pulling ${base.shown} (${resolved.stage}${resolved.pinned ? ', pinned' : ''})`);
    const pulled = await step(`pulling ${base.shown}`, () =>
      tool.pull({ reference: base.reference, ...(base.platform !== undefined && { platform: base.platform }), ...(resolved.digest !== undefined && { digest: resolved.digest }) }),
    );
    // A pinned base is recorded with the digest its FROM names, whatever the tool says.
    const digest = resolved.digest ?? pulled;
    log(`${base.shown} is ${digest}`);
    record.baseImages.push({ ...resolved, digest });
  }

  log(`==> building ${plan.dockerfile}`);
  await step('building the image', () =>
    tool.build({
      contextDir: plan.contextDir,
      dockerfile: plan.dockerfilePath,
      tag: options.localName,
      buildArgs: plan.buildArgs,
      ...(plan.platform !== undefined && { platform: plan.platform }),
    }),
  );

  for (const reference of options.targets) {
    log(`==> pushing ${reference}`);
    const digest = await step(`pushing ${reference}`, () => tool.push(options.localName, reference));
    log(`${reference} is ${digest}`);
    record.outputImages.push({ reference, digest });
  }
}

function planBase(base: DockerfileBase, platform: string | undefined): PlannedBase {
  const { image } = base;
  const name = `${image.registry}/${image.repository}`;
  const tag = image.tag ?? (image.digest ? undefined : 'latest');
  const reference = image.digest ? `${name}@${image.digest}` : `${name}:${tag}`;
  return {
    reference,
    shown: tag !== undefined && image.digest ? `${name}:${tag}@${image.digest}` : reference,
    ...(platform !== undefined && { platform }),
    resolved: {
      registry: image.registry,
      repository: image.repository,
      ...(tag !== undefined && { tag }),
      ...(image.digest !== undefined && { digest: image.digest }),
      stage: base.stage,
      pinned: base.pinned,
    },
  };
}

/**
 * The platform a stage's base is pulled for: its own `FROM --platform` when it has one, the
 * build's otherwise. `$BUILDPLATFORM` and the like stay unexpanded there and mean this machine.
 */
function pullPlatform(base: DockerfileBase, analysis: DockerfileAnalysis, buildPlatform: string | undefined): string | undefined {
  const own = analysis.stages[base.stageIndex]?.platform;
  if (own !== undefined) return own.includes('$') ? undefined : own;
  return buildPlatform;
}

/** Resolves `path` inside `root`, refusing anything (`..`, absolute paths, symlinks) that leads out. */
export async function insideContext(root: string, path: string): Promise<string> {
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
