// `cascade graph`, `cascade why`, `cascade explain`: what builds on what, and why a run happened
// or an event would (not) build. The server answers from its records; these commands only draw.
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { act, leaf, type OutputOptions } from '../command-helpers';
import { UsageError } from '../errors';
import { formatTable, formatTime } from '../format';
import { renderDot, renderMermaid, renderTree } from '../graph-format';
import { oneOf } from '../options';
import type { ExplainAnswer, WhyAnswer } from '../../domain/explain';

const GRAPH_FORMATS = ['tree', 'json', 'mermaid', 'dot'] as const;

export function registerInsightCommands(program: Command, ctx: CliContext): void {
  // The graph is drawn more ways than table|json: its --output says which.
  const graph = program
    .command('graph')
    .description('which tasks build on which images, transitively, and what rebuilds in what order')
    .option('--image <ref>', 'only what a change of this base image rebuilds')
    .option('--task <name>', 'only what this task builds on and what builds on it')
    .option('--output <tree|json|mermaid|dot>', 'how to draw it', oneOf('--output', GRAPH_FORMATS), 'tree');
  graph.action(async () => {
    const opts = graph.opts<{ image?: string; task?: string; output: (typeof GRAPH_FORMATS)[number] }>();
    if (opts.image !== undefined && opts.task !== undefined) throw new UsageError('give --image or --task, not both');
    const answer = await ctx.api().graph({ image: opts.image, task: opts.task });
    if (opts.output === 'json') ctx.json(answer);
    else ctx.out(opts.output === 'mermaid' ? renderMermaid(answer) : opts.output === 'dot' ? renderDot(answer) : renderTree(answer));
    ctx.exitCode = 0;
  });

  const why = leaf(program, 'why', "explain a run's cause, back to the first event").argument('<RUN_ID>', 'run ID, e.g. da7');
  act<OutputOptions>(
    why,
    ctx,
    async (opts) => {
      const [runId = ''] = why.processedArgs as string[];
      const answer = await ctx.api().why(runId);
      if (opts.output === 'json') ctx.json(answer);
      else ctx.out(formatWhy(answer));
    },
  );

  act<OutputOptions & { image: string; digest: string }>(
    leaf(program, 'explain', 'for every task that tracks an image: would an event with this digest build it, and if not, why')
      .requiredOption('--image <ref>', 'the base image, e.g. 127.0.0.1:5000/baseimages/node:9-alpine')
      .requiredOption('--digest <digest>', 'the digest the event would carry, sha256:…'),
    ctx,
    async (opts) => {
      const answer = await ctx.api().explain(opts.image, opts.digest);
      if (opts.output === 'json') ctx.json(answer);
      else ctx.out(formatExplain(answer));
    },
  );
}

export function formatWhy(answer: WhyAnswer): string {
  const lines: string[] = [];
  answer.chain.forEach((link, i) => {
    const indent = '  '.repeat(i);
    lines.push(`${indent}${link.runId}  ${link.task ?? '(quick build)'}  ${link.trigger}  ${link.status}  ${formatTime(link.createdAt)}`);
    lines.push(`${indent}  because ${link.because}`);
    if (link.missing) lines.push(`${indent}  which ${link.missing} pushed (that run is no longer kept)`);
    else if (i < answer.chain.length - 1) lines.push(`${indent}  which ${answer.chain[i + 1]!.runId} (${answer.chain[i + 1]!.task ?? ''}) pushed:`);
    if (link.firstEvent) lines.push(`${indent}  first event: ${link.firstEvent.text}${link.firstEvent.occurredAt ? ` at ${formatTime(link.firstEvent.occurredAt)}` : ''}`);
  });
  if (answer.via.length > 0) lines.push(`change ${answer.root} went through ${answer.via.join(' → ')}`);
  return `${lines.join('\n')}\n`;
}

export function formatExplain(answer: ExplainAnswer): string {
  const head = `${answer.image} at ${answer.digest}${answer.currentDigest ? ` (newest seen: ${answer.currentDigest})` : ''}\n`;
  if (answer.tasks.length === 0) return `${head}No task tracks ${answer.image}.\n`;
  return `${head}${formatTable(
    ['TASK', 'BUILDS', 'WHY'],
    answer.tasks.map((t) => [t.task, t.build ? 'yes' : `no (${t.code})`, t.reason]),
  )}`;
}
