// The build steps' container tool on one machine: buildah as root with vfs storage and chroot
// isolation (no daemon, no overlay, no user namespaces needed), a private registries.conf and
// authfile per build, and one storage root shared by all builds so base layers are fetched once.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildReason, lastErrorLine, registryReason } from '../adapters/buildah-errors';
import { ContainerToolError, DIGEST, type ContainerRunRequest, type ContainerTool, type ImageBuildRequest, type PullRequest, type ToolIo, type ToolRunner } from './container-tool';

export interface BuildahToolOptions {
  /** Runs the buildah program; output streaming, cancel and timeouts are the caller's. */
  run: ToolRunner;
  /** buildah's image storage, kept between builds. */
  storageRoot: string;
  /** This build's scratch folder: storage.conf, temp layers, digest files. */
  workDir: string;
  /** The build's registry logins; always cascade's own file, even empty. */
  authFile: string;
  /** The build's registries.conf: which hosts speak plain HTTP. */
  registriesConf: string;
}

// buildah 1.28 reads --retry 0 as "use the default" (3 tries, 2s apart): one quick retry is the floor.
const PULL_RETRY = ['--retry', '1', '--retry-delay', '500ms'];

export class BuildahTool implements ContainerTool {
  private readonly global: string[];

  private constructor(
    private readonly options: BuildahToolOptions,
    private readonly env: Record<string, string>,
  ) {
    const { root, runroot } = storagePaths(options.storageRoot);
    this.global = ['--storage-driver', 'vfs', '--root', root, '--runroot', runroot];
  }

  /** Writes the storage.conf and temp folder the tool runs with. */
  static async create(options: BuildahToolOptions): Promise<BuildahTool> {
    const { root, runroot } = storagePaths(options.storageRoot);
    const storageConf = join(options.workDir, 'storage.conf');
    // The system's storage.conf may carry options for another driver that vfs rejects.
    await writeFile(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = ${JSON.stringify(root)}\nrunroot = ${JSON.stringify(runroot)}\n`);
    // buildah stages layers in TMPDIR; inside the build's folder they go away with it.
    const tmp = join(options.workDir, 'tmp');
    await mkdir(tmp, { recursive: true });
    return new BuildahTool(options, { CONTAINERS_REGISTRIES_CONF: options.registriesConf, CONTAINERS_STORAGE_CONF: storageConf, TMPDIR: tmp });
  }

  async pull({ reference, platform, digest }: PullRequest, io: ToolIo = {}): Promise<string> {
    const args = ['pull', '--policy', 'always', ...PULL_RETRY, '--authfile', this.options.authFile];
    if (platform) args.push('--platform', platform);
    const pull = await this.buildah([...args, reference], false, io);
    if (pull.code !== 0) throw new ContainerToolError(registryReason(pull.stderr));
    if (digest !== undefined) return digest;

    const inspect = await this.buildah(['inspect', '--type', 'image', '--format', '{{.FromImageDigest}}', reference], true, io);
    const found = inspect.stdout.trim();
    if (inspect.code !== 0 || !DIGEST.test(found)) {
      throw new ContainerToolError(`reading its digest failed: ${lastErrorLine(inspect.stderr) ?? `buildah printed "${found}"`}`);
    }
    return found;
  }

  async build(request: ImageBuildRequest, io: ToolIo = {}): Promise<void> {
    // --pull=never: the build uses exactly the images pulled before, whose digests are recorded.
    const args = ['build', '--isolation', 'chroot', '--pull=never', '--authfile', this.options.authFile];
    args.push('-f', join(request.contextDir, request.dockerfile), '-t', request.tag);
    if (request.platform) args.push('--platform', request.platform);
    if (request.target) args.push('--target', request.target);
    for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    const build = await this.buildah([...args, request.contextDir], false, io);
    if (build.code !== 0) throw new ContainerToolError(buildReason(build.stderr));
  }

  async push(localName: string, reference: string, io: ToolIo = {}): Promise<string> {
    const digestFile = join(this.options.workDir, `digest-${randomBytes(4).toString('hex')}`);
    const push = await this.buildah(['push', '--authfile', this.options.authFile, '--digestfile', digestFile, localName, `docker://${reference}`], false, io);
    if (push.code !== 0) throw new ContainerToolError(registryReason(push.stderr));
    const digest = (await readFile(digestFile, 'utf8').catch(() => '')).trim();
    if (!DIGEST.test(digest)) throw new ContainerToolError('buildah wrote no digest');
    return digest;
  }

  async tag(localName: string, reference: string, io: ToolIo = {}): Promise<void> {
    const tag = await this.buildah(['tag', localName, reference], true, io);
    if (tag.code !== 0) throw new ContainerToolError(`naming the image ${reference} failed: ${lastErrorLine(tag.stderr) ?? 'buildah gave no reason'}`);
  }

  /**
   * `buildah from` + `buildah run` under the chroot isolation builds use: the image's ENTRYPOINT
   * and CMD as `docker run` would (buildah run runs only the command it is given), then the
   * working container is removed.
   */
  async run(request: ContainerRunRequest, io: ToolIo = {}): Promise<number> {
    const from = await this.buildah(['from', '--pull=never', '--quiet', request.image], true, io);
    const container = from.stdout.trim().split('\n').pop() ?? '';
    if (from.code !== 0 || container === '') throw new ContainerToolError(`starting a container of ${request.image} failed: ${lastErrorLine(from.stderr) ?? 'buildah gave no reason'}`);
    try {
      // buildah 1.28's --format has no json function: the whole inspection is JSON already.
      const inspect = await this.buildah(['inspect', '--type', 'container', container], true, io);
      let config: { Entrypoint?: string[] | null; Cmd?: string[] | null } = {};
      try {
        config = (JSON.parse(inspect.stdout) as { OCIv1?: { config?: typeof config } }).OCIv1?.config ?? {};
      } catch {
        throw new ContainerToolError(`reading the configuration of ${request.image} failed: ${lastErrorLine(inspect.stderr) ?? 'buildah printed no JSON'}`);
      }
      const entrypoint = request.entryPoint !== undefined ? [request.entryPoint] : (config.Entrypoint ?? []);
      const command = [...entrypoint, ...(request.args.length > 0 || request.entryPoint !== undefined ? request.args : (config.Cmd ?? []))];
      if (command.length === 0) throw new ContainerToolError(`${request.image} has no ENTRYPOINT or CMD and the step gives no command`);
      const args = ['run', '--isolation', 'chroot'];
      for (const entry of request.env) args.push('--env', entry);
      if (request.workingDirectory !== undefined) args.push('--workingdir', request.workingDirectory);
      const run = await this.buildah([...args, container, '--', ...command], false, io);
      if (run.code === null) throw new ContainerToolError(`the container of ${request.image} was stopped`);
      return run.code;
    } finally {
      await this.buildah(['rm', container], true).catch(() => undefined);
    }
  }

  /** Removes a built image from the shared storage; a failure leaves only disk space behind. */
  async remove(localName: string): Promise<void> {
    await this.buildah(['rmi', localName], true).catch(() => undefined);
  }

  private buildah(args: string[], quiet = false, io: ToolIo = {}) {
    return this.options.run([...this.global, ...args], { cwd: this.options.workDir, env: this.env, quiet, ...io });
  }
}

function storagePaths(storageRoot: string): { root: string; runroot: string } {
  const base = resolve(storageRoot);
  return { root: join(base, 'root'), runroot: join(base, 'runroot') };
}
