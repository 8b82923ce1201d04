// The build steps' container tool inside CodeBuild: the docker CLI of the build image, which the
// buildspec has logged in to every registry before the steps run. docker says which digest it
// pulled or pushed only in what it prints, so that is where the digests are read from.
import { ContainerToolError, type ContainerRunRequest, type ContainerTool, type ImageBuildRequest, type PullRequest, type ToolIo, type ToolRunner } from './container-tool';
import type { CommandResult } from './run-command';

const PULLED = /Digest: (sha256:[a-f0-9]{64})/g;
const PUSHED = /digest: (sha256:[a-f0-9]{64})/g;

export class DockerTool implements ContainerTool {
  /** `run` runs the docker program. */
  constructor(private readonly runner: ToolRunner) {}

  async pull({ reference, platform, digest }: PullRequest, io: ToolIo = {}): Promise<string> {
    const pull = await this.docker(['pull', ...(platform ? ['--platform', platform] : []), reference], io);
    if (pull.code !== 0) throw new ContainerToolError(reason(pull));
    const found = digest ?? lastMatch(pull, PULLED);
    if (found === undefined) throw new ContainerToolError('docker printed no digest');
    return found;
  }

  async build(request: ImageBuildRequest, io: ToolIo = {}): Promise<void> {
    const args = ['build', '--file', request.dockerfile, '--tag', request.tag];
    if (request.platform) args.push('--platform', request.platform);
    if (request.target) args.push('--target', request.target);
    for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    const build = await this.docker([...args, '.'], io, request.contextDir);
    if (build.code !== 0) throw new ContainerToolError(reason(build));
  }

  async push(localName: string, reference: string, io: ToolIo = {}): Promise<string> {
    const tag = await this.docker(['tag', localName, reference], io);
    if (tag.code !== 0) throw new ContainerToolError(reason(tag));
    const push = await this.docker(['push', reference], io);
    if (push.code !== 0) throw new ContainerToolError(reason(push));
    const digest = lastMatch(push, PUSHED);
    if (digest === undefined) throw new ContainerToolError('docker printed no digest');
    return digest;
  }

  async tag(localName: string, reference: string, io: ToolIo = {}): Promise<void> {
    const tag = await this.docker(['tag', localName, reference], io);
    if (tag.code !== 0) throw new ContainerToolError(reason(tag));
  }

  /** `docker run --rm`: the image's ENTRYPOINT and CMD unless the step overrides them. */
  async run(request: ContainerRunRequest, io: ToolIo = {}): Promise<number> {
    const args = ['run', '--rm', '--pull', 'never'];
    for (const entry of request.env) args.push('--env', entry);
    if (request.entryPoint !== undefined) args.push('--entrypoint', request.entryPoint);
    if (request.workingDirectory !== undefined) args.push('--workdir', request.workingDirectory);
    const run = await this.docker([...args, request.image, ...request.args], io);
    if (run.code === null) throw new ContainerToolError(`the container of ${request.image} was stopped`);
    // 125: docker itself failed (no such image, bad option), not the command.
    if (run.code === 125) throw new ContainerToolError(reason(run));
    return run.code;
  }

  private docker(args: string[], io: ToolIo, cwd?: string) {
    return this.runner(args, { ...(cwd !== undefined && { cwd }), ...io });
  }
}

/** docker's last words: its error line ends stderr ("Error response from daemon: …", "ERROR: failed to solve: …"). */
function reason(result: CommandResult): string {
  const last = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '').pop();
  return last(result.stderr) ?? last(result.stdout) ?? 'no error output';
}

function lastMatch(result: CommandResult, pattern: RegExp): string | undefined {
  return [...`${result.stdout}\n${result.stderr}`.matchAll(pattern)].pop()?.[1];
}
