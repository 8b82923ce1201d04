// The one thing the build steps need from a container engine: pull, build, push. buildah
// implements it locally (buildah-tool.ts), docker inside CodeBuild (docker-tool.ts); everything
// else a build does is the same code (build-steps.ts) whichever runs it.
import type { CommandResult } from './run-command';

export interface PullRequest {
  /** What to pull: `host/repo:tag`, or `host/repo@digest` when the FROM pins one. */
  reference: string;
  platform?: string;
  /** The digest the reference pins: the pulled digest is known, so a tool need not look it up. */
  digest?: string;
}

export interface ImageBuildRequest {
  /** The build context, symlinks resolved. */
  contextDir: string;
  /** The Dockerfile's path inside `contextDir`. */
  dockerfile: string;
  /** The name the built image gets; the steps push it from there. */
  tag: string;
  platform?: string;
  buildArgs: Record<string, string>;
  /** `--target`: the stage the build stops at. */
  target?: string;
}

/** A task file's `cmd` step: a container of `image` run to its end. */
export interface ContainerRunRequest {
  /** A local image (one the run built) or a reference pulled before. */
  image: string;
  args: string[];
  /** `KEY=value`. */
  env: string[];
  entryPoint?: string;
  workingDirectory?: string;
}

/** Where one step's tool commands write and what stops them (a step's own timeout). */
export interface ToolIo {
  signal?: AbortSignal;
  output?: (text: string) => void;
}

export interface ContainerTool {
  /** Pulls one base image and resolves to the digest of the manifest it fetched. */
  pull(request: PullRequest, io?: ToolIo): Promise<string>;
  /** Builds from images already pulled only, so the recorded digests are the ones built on. */
  build(request: ImageBuildRequest, io?: ToolIo): Promise<void>;
  /** Pushes the image named `localName` to `reference`; resolves to the digest the registry stored. */
  push(localName: string, reference: string, io?: ToolIo): Promise<string>;
  /** Gives the image named `localName` the name `reference` too, so a later build's FROM finds it here. */
  tag(localName: string, reference: string, io?: ToolIo): Promise<void>;
  /** Runs a container of the image to its end (its ENTRYPOINT, as `docker run` does); resolves to its exit code. */
  run(request: ContainerRunRequest, io?: ToolIo): Promise<number>;
}

/** A tool command failed; the message is the tool's reason in one line, without the step's name. */
export class ContainerToolError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ContainerToolError';
  }
}

/**
 * Runs the tool's program with `args`. The caller binds the program and decides where its output
 * goes and what stops it; `env` holds only the variables the tool adds to the caller's environment.
 */
export type ToolRunner = (
  args: string[],
  options?: { cwd?: string; env?: Record<string, string>; quiet?: boolean; signal?: AbortSignal; output?: (text: string) => void },
) => Promise<CommandResult>;

export const DIGEST = /^sha256:[a-f0-9]{64}$/;
