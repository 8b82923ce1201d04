// The build steps' container tool inside CodeBuild: the docker CLI of the build image, which the
// buildspec has logged in to every registry before the steps run. docker says which digest it
// pulled or pushed only in what it prints, so that is where the digests are read from.
import { ContainerToolError, type ContainerTool, type ImageBuildRequest, type PullRequest, type ToolRunner } from './container-tool';
import type { CommandResult } from './run-command';

const PULLED = /Digest: (sha256:[a-f0-9]{64})/g;
const PUSHED = /digest: (sha256:[a-f0-9]{64})/g;

export class DockerTool implements ContainerTool {
  /** `run` runs the docker program. */
  constructor(private readonly run: ToolRunner) {}

  async pull({ reference, platform, digest }: PullRequest): Promise<string> {
    const pull = await this.run(['pull', ...(platform ? ['--platform', platform] : []), reference]);
    if (pull.code !== 0) throw new ContainerToolError(reason(pull));
    const found = digest ?? lastMatch(pull, PULLED);
    if (found === undefined) throw new ContainerToolError('docker printed no digest');
    return found;
  }

  async build(request: ImageBuildRequest): Promise<void> {
    const args = ['build', '--file', request.dockerfile, '--tag', request.tag];
    if (request.platform) args.push('--platform', request.platform);
    for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    const build = await this.run([...args, '.'], { cwd: request.contextDir });
    if (build.code !== 0) throw new ContainerToolError(reason(build));
  }

  async push(localName: string, reference: string): Promise<string> {
    const tag = await this.run(['tag', localName, reference]);
    if (tag.code !== 0) throw new ContainerToolError(reason(tag));
    const push = await this.run(['push', reference]);
    if (push.code !== 0) throw new ContainerToolError(reason(push));
    const digest = lastMatch(push, PUSHED);
    if (digest === undefined) throw new ContainerToolError('docker printed no digest');
    return digest;
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
