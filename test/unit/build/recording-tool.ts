// A ContainerTool that records what the build steps ask of it and answers with digests derived
// from the references, so tests can predict them; a named reference or step can be made to fail.
import { createHash } from 'node:crypto';
import { ContainerToolError, type ContainerRunRequest, type ContainerTool, type ImageBuildRequest, type PullRequest, type ToolIo } from '../../../lib/build/container-tool';

export const fakeDigest = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

export interface Failures {
  /** Pulls of references containing this fail with "manifest unknown". */
  pull?: string;
  /** The build fails at its RUN step. */
  build?: boolean;
  /** Pushes of references containing this are denied. */
  push?: string;
  /** A container of an image containing the key exits with the code. */
  run?: Record<string, number>;
}

export class RecordingTool implements ContainerTool {
  readonly calls: string[] = [];
  readonly builds: ImageBuildRequest[] = [];

  constructor(private readonly failures: Failures = {}) {}

  async pull({ reference, platform }: PullRequest): Promise<string> {
    this.calls.push(`pull ${reference}${platform ? ` --platform ${platform}` : ''}`);
    if (this.failures.pull && reference.includes(this.failures.pull)) throw new ContainerToolError('manifest unknown');
    // Not the pinned digest even for a pinned reference: the steps must keep the FROM's own.
    return fakeDigest(reference);
  }

  async build(request: ImageBuildRequest): Promise<void> {
    this.calls.push(`build ${request.dockerfile} -> ${request.tag}${request.platform ? ` --platform ${request.platform}` : ''}`);
    this.builds.push(request);
    if (this.failures.build) throw new ContainerToolError('building at STEP "RUN false": exit status 1');
  }

  async push(localName: string, reference: string): Promise<string> {
    this.calls.push(`push ${localName} -> ${reference}`);
    if (this.failures.push && reference.includes(this.failures.push)) throw new ContainerToolError('denied: requested access to the resource is denied');
    return fakeDigest(`pushed:${reference}`);
  }

  async tag(localName: string, reference: string): Promise<void> {
    this.calls.push(`tag ${localName} -> ${reference}`);
  }

  async run(request: ContainerRunRequest, io: ToolIo = {}): Promise<number> {
    const options = [...request.env.map((e) => ` -e ${e}`), request.entryPoint ? ` --entrypoint ${request.entryPoint}` : '', request.workingDirectory ? ` -w ${request.workingDirectory}` : ''].join('');
    this.calls.push(`run${options} ${[request.image, ...request.args].join(' ')}`);
    io.output?.(`ran ${request.image}\n`);
    const failing = Object.entries(this.failures.run ?? {}).find(([image]) => request.image.includes(image));
    return failing?.[1] ?? 0;
  }
}
