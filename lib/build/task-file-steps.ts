// A task file's steps, run the same way by both builders (buildah locally, docker in CodeBuild):
// each `build` step pulls its bases recording their digests (with the step's id) and builds; a
// `cmd` step runs a container of an image the run built (or pulls it) and fails on a non-zero
// exit; a `push` step pushes images the run built. Steps start as their `when` allows, each with
// its own timeout; a step that fails (unless it ignores errors) stops the others and starts no
// more, so no push after a failed check ever runs. Every log line of a step starts with `[id]`.
//
//   const plan = await readTaskFilePlan({ contextDir, taskFile, values, platform });
//   await runTaskFileSteps(plan, tool, { localNamePrefix, log, record, steps, built });
import { readFile, realpath } from 'node:fs/promises';
import { relative } from 'node:path';
import { CascadeError } from '../domain/errors';
import type { RunStep, RunStepStatus } from '../domain/types';
import { parseTaskFile, referenceKey, type BuildStep, type TaskFile, type TaskStep } from '../taskfile/task-file';
import { BuildStepError, insideContext, planFromText, type BuildPlan, type BuildRecord } from './build-steps';
import { ContainerToolError, type ContainerTool, type ToolIo } from './container-tool';

export interface TaskFilePlan {
  file: TaskFile;
  /** Each build step's plan, by step id. */
  builds: Map<string, BuildPlan>;
}

export interface TaskFileInput {
  contextDir: string;
  /** The task file, relative to the context. */
  taskFile: string;
  /** The run's template values. */
  values: Record<string, string | undefined>;
  platform?: string;
}

/** Reads the task file and each build step's Dockerfile from the context (a refusal names the line). */
export async function readTaskFilePlan(input: TaskFileInput): Promise<TaskFilePlan> {
  const root = await realpath(input.contextDir);
  const read = async (path: string, what: string) => {
    const real = await insideContext(root, path);
    const text = await readFile(real, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR') throw new BuildStepError(`the ${what} ${path} was not found in the build context`);
      throw err;
    });
    return { real, text };
  };
  const file = parseTaskFile((await read(input.taskFile, 'task file')).text, input.values);
  const builds = new Map<string, BuildPlan>();
  for (const step of file.steps) {
    if (step.kind !== 'build') continue;
    const contextDir = await insideContext(root, step.context);
    const dockerfile = await read(step.dockerfile, `Dockerfile of step "${step.id}"`);
    builds.set(
      step.id,
      planFromText(dockerfile.text, {
        contextDir,
        dockerfile: step.dockerfile,
        // docker reads -f from where it runs (the step's context); it may lie beside the context.
        dockerfilePath: relative(contextDir, dockerfile.real),
        buildArgs: step.buildArgs,
        ...(input.platform && { platform: input.platform }),
        ...(step.target !== undefined && { target: step.target }),
      }),
    );
  }
  return { file, builds };
}

/** The registries a run of the plan talks to: bases, images it runs, and where it pushes. */
export function taskFileRegistries(plan: TaskFilePlan): string[] {
  const hosts = new Set<string>();
  for (const build of plan.builds.values()) for (const base of build.bases) hosts.add(base.resolved.registry);
  for (const step of plan.file.steps) {
    const refs = step.kind === 'cmd' ? [step.image] : step.kind === 'push' ? step.images : step.tags;
    for (const ref of refs) hosts.add(referenceKey(ref).split('/')[0] as string);
  }
  return [...hosts];
}

export interface TaskFileStepsOptions {
  /** Built images are named `<prefix>-<n>:latest` between their build and their push. */
  localNamePrefix: string;
  log: (line: string) => void;
  record: BuildRecord;
  /** Filled in as steps start and end: what the run's `steps` become. */
  steps: RunStep[];
  /** The local names built, for the caller to remove. */
  built: string[];
  /** The whole build's stop (cancel, the build's timeout). */
  signal?: AbortSignal;
  now?: () => Date;
}

/** Runs the steps; throws BuildStepError naming the step that failed. */
export async function runTaskFileSteps(plan: TaskFilePlan, tool: ContainerTool, options: TaskFileStepsOptions): Promise<void> {
  const now = options.now ?? (() => new Date());
  const localNames = new Map<string, string>();
  // Images one build step tags and another builds FROM: named locally too, and never pulled.
  const builtBases = new Map<string, string>();
  for (const step of plan.file.steps) {
    if (step.kind !== 'build') continue;
    for (const tag of step.tags) {
      const key = referenceKey(tag);
      if ([...plan.builds.values()].some((build) => build.bases.some((base) => referenceKey(base.reference) === key))) builtBases.set(key, step.id);
    }
  }
  const finished = new Set<string>();
  const running = new Map<string, Promise<void>>();
  const stopOthers = new AbortController();
  const runSignal = anySignal([options.signal, stopOthers.signal]);
  let failure: { step: TaskStep; message: string; fatal?: unknown } | undefined;

  const runStep = async (step: TaskStep): Promise<void> => {
    const entry: RunStep = { id: step.id, kind: step.kind, status: 'Succeeded', startedAt: now().toISOString() };
    options.steps.push(entry);
    const started = now().getTime();
    const out = new PrefixedLines(`[${step.id}] `, options.log);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), step.timeout * 1000);
    timer.unref?.();
    const io: ToolIo = { signal: anySignal([runSignal, timeout.signal]), output: (text) => out.write(text) };
    const say = (line: string) => out.line(line);
    say(`==> step ${step.id} (${step.kind}) starting`);
    let status: RunStepStatus = 'Succeeded';
    let message: string | undefined;
    try {
      await executeStep(step, plan, tool, { index: plan.file.steps.indexOf(step), io, say, localNames, builtBases, options });
    } catch (err) {
      if (options.signal?.aborted || (stopOthers.signal.aborted && !timeout.signal.aborted)) {
        status = 'Canceled';
        message = options.signal?.aborted ? 'the build was stopped' : 'stopped because another step failed';
      } else if (timeout.signal.aborted) {
        status = 'Timeout';
        message = `did not finish within its timeout of ${step.timeout} s`;
      } else {
        status = 'Failed';
        message = err instanceof ContainerToolError || err instanceof CascadeError ? err.message : (err as Error).message;
        if (!(err instanceof ContainerToolError || err instanceof CascadeError)) failure ??= { step, message, fatal: err };
      }
    } finally {
      clearTimeout(timer);
    }
    entry.status = status;
    entry.durationMs = Math.max(0, now().getTime() - started);
    if (message !== undefined) entry.error = message;
    const failed = status === 'Failed' || status === 'Timeout';
    if (failed && step.ignoreErrors) entry.ignoredError = true;
    say(`==> step ${step.id} ${status}${message !== undefined ? `: ${message}` : ''}${failed && step.ignoreErrors ? ' (ignoreErrors: the run goes on)' : ''} in ${formatSeconds(entry.durationMs)}`);
    out.end();
    if (failed && !step.ignoreErrors) {
      failure ??= { step, message: message ?? status };
      stopOthers.abort();
    }
    // A step whose errors are ignored counts as done for those that wait for it.
    if (status === 'Succeeded' || (failed && step.ignoreErrors)) finished.add(step.id);
  };

  for (;;) {
    options.signal?.throwIfAborted();
    if (!failure) {
      for (const step of plan.file.steps) {
        if (finished.has(step.id) || running.has(step.id) || options.steps.some((s) => s.id === step.id)) continue;
        if (step.when.every((id) => finished.has(id))) {
          running.set(step.id, runStep(step).finally(() => running.delete(step.id)));
        }
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }

  for (const step of plan.file.steps) {
    if (!options.steps.some((s) => s.id === step.id)) options.steps.push({ id: step.id, kind: step.kind, status: 'Skipped' });
  }
  options.built.push(...new Set(localNames.values()));
  options.signal?.throwIfAborted();
  if (failure) {
    if (failure.fatal !== undefined) throw failure.fatal;
    throw new BuildStepError(`step "${failure.step.id}" (${failure.step.kind}) failed: ${failure.message}`);
  }
}

interface StepContext {
  /** The step's place in the file. */
  index: number;
  /** Images a build step of the run builds FROM, by the id of the step that builds them. */
  builtBases: Map<string, string>;
  io: ToolIo;
  say: (line: string) => void;
  localNames: Map<string, string>;
  options: TaskFileStepsOptions;
}

async function executeStep(step: TaskStep, plan: TaskFilePlan, tool: ContainerTool, ctx: StepContext): Promise<void> {
  const { io, say, localNames, options } = ctx;
  if (step.kind === 'build') return buildStep(step, plan.builds.get(step.id) as BuildPlan, tool, ctx);
  if (step.kind === 'cmd') {
    let image = localNames.get(referenceKey(step.image));
    if (image === undefined) {
      say(`==> pulling ${step.image} (not built by this run)`);
      await tool.pull({ reference: step.image }, io);
      image = step.image;
    }
    say(`==> running ${[step.image, ...step.args].join(' ')}`);
    const code = await tool.run({ image, args: step.args, env: step.env, ...(step.entryPoint !== undefined && { entryPoint: step.entryPoint }), ...(step.workingDirectory !== undefined && { workingDirectory: step.workingDirectory }) }, io);
    if (code !== 0) throw new BuildStepError(`${step.image} exited with code ${code}`);
    return;
  }
  for (const reference of step.images) {
    const local = localNames.get(referenceKey(reference));
    if (local === undefined) throw new BuildStepError(`${reference} was not built by this run (its build step did not succeed)`);
    say(`==> pushing ${reference}`);
    const digest = await tool.push(local, reference, io);
    say(`${reference} is ${digest}`);
    options.record.outputImages.push({ reference, digest });
  }
}

async function buildStep(step: BuildStep, plan: BuildPlan, tool: ContainerTool, ctx: StepContext): Promise<void> {
  const { io, say, localNames, builtBases, options } = ctx;
  if (plan.unresolvedArgs.length > 0) say(`warning: the Dockerfile uses build arguments with no value: ${plan.unresolvedArgs.join(', ')}`);
  for (const base of plan.bases) {
    const { resolved } = base;
    const builder = builtBases.get(referenceKey(base.reference));
    if (builder !== undefined) {
      // Built by this run: used as built, and no dependency of the task.
      if (!localNames.has(referenceKey(base.reference))) {
        throw new BuildStepError(`${base.shown} is built by step "${builder}" of this run, which has not run yet: make this step wait for it (when: [${builder}])`);
      }
      say(`==> ${base.shown} was built by step ${builder} of this run`);
      continue;
    }
    say(`==> pulling ${base.shown} (${resolved.stage}${resolved.pinned ? ', pinned' : ''})`);
    const pulled = await tool.pull({ reference: base.reference, ...(base.platform !== undefined && { platform: base.platform }), ...(resolved.digest !== undefined && { digest: resolved.digest }) }, io);
    const digest = resolved.digest ?? pulled;
    say(`${base.shown} is ${digest}`);
    options.record.baseImages.push({ ...resolved, digest, step: step.id });
  }
  // Named by the step's place in the file: unique in the run, and ids may differ only in case.
  const localName = `${options.localNamePrefix}-${ctx.index + 1}-${step.id.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}:latest`;
  say(`==> building ${step.dockerfile} as ${step.tags.join(', ')}`);
  await tool.build(
    {
      contextDir: plan.contextDir,
      dockerfile: plan.dockerfilePath,
      tag: localName,
      buildArgs: plan.buildArgs,
      ...(plan.platform !== undefined && { platform: plan.platform }),
      ...(plan.target !== undefined && { target: plan.target }),
    },
    io,
  );
  for (const tag of step.tags) {
    localNames.set(referenceKey(tag), localName);
    if (builtBases.has(referenceKey(tag))) {
      await tool.tag(localName, tag, io);
      options.built.push(tag);
    }
  }
}

/** Output of one step, line by line, each line prefixed with the step's id. */
class PrefixedLines {
  private partial = '';
  constructor(
    private readonly prefix: string,
    private readonly log: (line: string) => void,
  ) {}

  write(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.log(this.prefix + line.replace(/\r$/, ''));
    // A program that never ends its line is still logged, in pieces.
    if (this.partial.length >= 64 << 10) this.end();
  }

  line(text: string): void {
    this.end();
    this.log(this.prefix + text);
  }

  end(): void {
    if (this.partial !== '') this.log(this.prefix + this.partial);
    this.partial = '';
  }
}

/** Aborted when any of the signals is (AbortSignal.any is untyped in these Node types). */
function anySignal(signals: Array<AbortSignal | undefined>): AbortSignal {
  const controller = new AbortController();
  for (const signal of signals) {
    if (!signal) continue;
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
