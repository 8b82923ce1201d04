// `cascade build`: a one-off build and push, not tied to a task (ACR's quick build).
import type { Command } from 'commander';
import type { QuickBuildInput } from '../../domain/inputs';
import type { CliContext } from '../cli-context';
import { act, leaf, reportQueuedRun, type OutputOptions } from '../command-helpers';
import { resolveContext } from '../input';
import { collect, keyValue } from '../options';

interface BuildOptions extends OutputOptions {
  registry: string;
  image?: string[];
  file?: string;
  arg?: Record<string, string>;
  platform?: string;
  wait: boolean;
}

export function registerBuildCommand(program: Command, ctx: CliContext): void {
  const cmd = leaf(program, 'build', 'build an image from CONTEXT and push it, following the log')
    .argument('<CONTEXT>', 'git URL[#branch[:folder]] or a local folder')
    .requiredOption('--registry <host>', 'login server to push to, e.g. 127.0.0.1:5000')
    .option('--image <repo:tag>', 'image to push, relative to the registry (repeatable; none with a task file)', collect)
    .option('--file <path>', 'Dockerfile path inside the context (default Dockerfile); a .yaml/.yml file is a multi-step task file')
    .option('--arg <KEY=VALUE>', 'build argument (repeatable)', keyValue)
    .option('--platform <os/arch>', 'platform to build for (default linux/amd64)')
    .option('--no-wait', 'return once the build is queued');
  act<BuildOptions>(cmd, ctx, async (opts) => {
    const [context = ''] = cmd.processedArgs as string[];
    const body: Partial<QuickBuildInput> = {
      registry: opts.registry,
      ...(opts.image !== undefined && { images: opts.image }),
      context: await resolveContext(context, ctx.cwd),
    };
    if (opts.file !== undefined) body.file = opts.file;
    if (opts.arg !== undefined) body.args = opts.arg;
    if (opts.platform !== undefined) body.platform = opts.platform;
    return reportQueuedRun(ctx, await ctx.api().quickBuild(body), opts.output, opts.wait);
  });
}
