// What a Dockerfile is built from: its stages, and the base images whose change should rebuild it.
// FROM lines see only the ARGs declared before the first FROM (build args override their
// defaults), plus the automatic TARGET* platform args, exactly as BuildKit and buildah do.
import { DockerfileError, InvalidImageReferenceError } from '../domain/errors';
import type { BaseImageTriggerType, DependencyStage, ImageRef } from '../domain/types';
import { formatImageReference, parseImageReference } from '../images/reference';
import { parseDockerfile, splitRawWords, type EscapeToken, type Instruction } from './instructions';
import { substitute, SubstitutionError } from './substitute';

export interface DockerfileStage {
  index: number;
  /** Lower-cased, as builders compare stage names. */
  name?: string;
  /** The FROM argument after ARG substitution. */
  from: string;
  /** `--platform`, with known ARGs substituted; automatic ones like $BUILDPLATFORM stay as written. */
  platform?: string;
  kind: 'image' | 'stage' | 'scratch';
  image?: ImageRef;
  /** The FROM named a digest. */
  pinned: boolean;
  line: number;
  /** For `kind: 'stage'`: the index of the earlier stage this one starts from. */
  baseStage?: number;
}

export interface DockerfileBase {
  image: ImageRef;
  stage: DependencyStage;
  pinned: boolean;
  stageIndex: number;
  line: number;
}

export interface DockerfileAnalysis {
  stages: DockerfileStage[];
  /** One entry per distinct reference, in order of first use; stages after the target are not built and not listed. */
  bases: DockerfileBase[];
  /** ARGs a FROM referenced that had no value (no default, no build arg, or never declared). */
  unresolvedArgs: string[];
  /** Index of the stage the build produces: the target stage, or the last one. */
  finalStage: number;
}

export interface AnalyzeOptions {
  /** `--target`: the stage the build stops at. */
  targetStage?: string;
  /** Target platform (`linux/arm64/v8`), which sets TARGETPLATFORM, TARGETOS, TARGETARCH and TARGETVARIANT. */
  platform?: string;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function platformArgs(platform: string | undefined): Map<string, string> {
  const args = new Map<string, string>();
  if (!platform) return args;
  const [os, arch, variant] = platform.split('/');
  args.set('TARGETPLATFORM', platform);
  if (os) args.set('TARGETOS', os);
  if (arch) {
    args.set('TARGETARCH', arch);
    args.set('TARGETVARIANT', variant ?? '');
  }
  return args;
}

interface GlobalArgs {
  values: Map<string, string>;
  declared: Set<string>;
}

function readGlobalArg(
  instruction: Instruction,
  globals: GlobalArgs,
  buildArgs: Record<string, string>,
  escape: EscapeToken,
): void {
  const words = splitRawWords(instruction.rest);
  if (words.length === 0) throw new DockerfileError(`Dockerfile line ${instruction.line}: ARG needs a name`);
  for (const word of words) {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    if (name === '') throw new DockerfileError(`Dockerfile line ${instruction.line}: ARG "${word}" has no name`);
    globals.declared.add(name);
    if (Object.prototype.hasOwnProperty.call(buildArgs, name)) {
      globals.values.set(name, buildArgs[name] ?? '');
    } else if (eq >= 0) {
      // A default may use ARGs declared before it.
      globals.values.set(name, expand(word.slice(eq + 1), globals.values, escape, instruction.line).value);
    }
    // Without a value it keeps what it had: an automatic platform arg, or nothing (unset).
  }
}

function expand(word: string, vars: ReadonlyMap<string, string>, escape: EscapeToken, line: number, keepUnset = false) {
  try {
    return substitute(word, vars, { escape, unset: keepUnset ? 'keep' : 'empty' });
  } catch (err) {
    if (err instanceof SubstitutionError) throw new DockerfileError(`Dockerfile line ${line}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** One sentence per unset ARG, saying how to give it a value. */
function explainUnresolved(names: string[], globals: GlobalArgs, buildArgs: Record<string, string>): string {
  return names
    .map((name) => {
      if (globals.declared.has(name)) return `ARG ${name} has no default and no build arg ${name} was given`;
      if (Object.prototype.hasOwnProperty.call(buildArgs, name)) {
        return `${name} is given as a build arg but not declared with ARG before the first FROM`;
      }
      return `${name} is not declared with ARG before the first FROM`;
    })
    .join('; ');
}

interface FromParts {
  image: string;
  name?: string;
  platform?: string;
}

function splitFrom(instruction: Instruction): FromParts {
  const where = `Dockerfile line ${instruction.line}`;
  const words = instruction.rest.split(/\s+/).filter((w) => w !== '');
  let platform: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() ?? '';
    const eq = flag.indexOf('=');
    const key = (eq < 0 ? flag.slice(2) : flag.slice(2, eq)).toLowerCase();
    if (key !== 'platform') continue; // other flags do not change what is pulled
    if (eq < 0 || eq === flag.length - 1) throw new DockerfileError(`${where}: --platform on FROM needs a value, e.g. --platform=linux/amd64`);
    platform = flag.slice(eq + 1);
  }
  const [image, as, alias] = words;
  if (image === undefined) throw new DockerfileError(`${where}: FROM needs an image`);
  if (words.length === 1) return { image, platform };
  if (words.length !== 3 || as?.toLowerCase() !== 'as' || alias === undefined) {
    throw new DockerfileError(`${where}: FROM takes an image and optionally "AS name", got "${instruction.rest}"`);
  }
  const name = alias.toLowerCase();
  if (!STAGE_NAME.test(name)) {
    throw new DockerfileError(`${where}: stage name "${alias}" is invalid: it must start with a letter and contain only letters, digits, "-", "_" and "."`);
  }
  return { image, name, platform };
}

export function analyzeDockerfile(
  text: string,
  buildArgs: Record<string, string>,
  opts: AnalyzeOptions = {},
): DockerfileAnalysis {
  const { escape, instructions } = parseDockerfile(text);
  const globals: GlobalArgs = { values: platformArgs(opts.platform), declared: new Set() };
  const stages: DockerfileStage[] = [];
  const unresolvedArgs: string[] = [];

  for (const instruction of instructions) {
    if (instruction.keyword !== 'FROM') {
      if (stages.length > 0) continue;
      if (instruction.keyword !== 'ARG') {
        throw new DockerfileError(
          `Dockerfile line ${instruction.line}: ${instruction.keyword} comes before the first FROM; only ARG may`,
        );
      }
      readGlobalArg(instruction, globals, buildArgs, escape);
      continue;
    }

    const where = `Dockerfile line ${instruction.line}`;
    const parts = splitFrom(instruction);
    const { value: from, unresolved } = expand(parts.image, globals.values, escape, instruction.line);
    for (const name of unresolved) if (!unresolvedArgs.includes(name)) unresolvedArgs.push(name);
    const hint = unresolved.length > 0 ? ` (${explainUnresolved(unresolved, globals, buildArgs)})` : '';
    if (from === '') throw new DockerfileError(`${where}: FROM ${parts.image} is empty after substitution${hint}`);

    if (parts.name !== undefined && stages.some((s) => s.name === parts.name)) {
      throw new DockerfileError(`${where}: stage name "${parts.name}" is already used by an earlier stage`);
    }
    const stage: DockerfileStage = { index: stages.length, from, kind: 'image', pinned: false, line: instruction.line };
    if (parts.name !== undefined) stage.name = parts.name;
    if (parts.platform !== undefined) {
      stage.platform = expand(parts.platform, globals.values, escape, instruction.line, true).value;
    }

    const earlier = stages.find((s) => s.name !== undefined && s.name === from.toLowerCase());
    if (earlier) {
      stage.kind = 'stage';
      stage.baseStage = earlier.index;
    } else if (from.toLowerCase() === 'scratch') {
      stage.kind = 'scratch';
    } else {
      try {
        stage.image = parseImageReference(from);
      } catch (err) {
        if (err instanceof InvalidImageReferenceError) {
          throw new DockerfileError(`${where}: ${err.message}${hint}`, { cause: err });
        }
        throw err;
      }
      stage.pinned = stage.image.digest !== undefined;
    }
    stages.push(stage);
  }

  if (stages.length === 0) throw new DockerfileError('Dockerfile has no FROM instruction');
  const finalStage = findFinalStage(stages, opts.targetStage);
  return { stages, bases: collectBases(stages, finalStage), unresolvedArgs, finalStage };
}

function findFinalStage(stages: DockerfileStage[], target: string | undefined): number {
  if (target === undefined) return stages.length - 1;
  const found = stages.find((s) => s.name === target.toLowerCase());
  if (found) return found.index;
  const names = stages.flatMap((s) => (s.name ? [s.name] : []));
  throw new DockerfileError(
    `target stage "${target}" is not in the Dockerfile` + (names.length ? ` (its named stages: ${names.join(', ')})` : ' (it has no named stages)'),
  );
}

/** Follows `FROM <stage>` links down to the stage that names an image or scratch. */
function rootStage(stages: DockerfileStage[], index: number): DockerfileStage | undefined {
  let stage = stages[index];
  while (stage?.kind === 'stage' && stage.baseStage !== undefined) stage = stages[stage.baseStage];
  return stage;
}

function collectBases(stages: DockerfileStage[], finalStage: number): DockerfileBase[] {
  const runtime = rootStage(stages, finalStage);
  const runtimeIndex = runtime?.kind === 'image' ? runtime.index : undefined;
  const byReference = new Map<string, DockerfileBase>();
  for (const stage of stages.slice(0, finalStage + 1)) {
    if (stage.kind !== 'image' || stage.image === undefined) continue;
    const isRuntime = stage.index === runtimeIndex;
    const key = formatImageReference(stage.image);
    const seen = byReference.get(key);
    if (seen) {
      if (isRuntime) Object.assign(seen, { stage: 'runtime', stageIndex: stage.index, line: stage.line });
      continue;
    }
    byReference.set(key, {
      image: stage.image,
      stage: isRuntime ? 'runtime' : 'build-time',
      pinned: stage.pinned,
      stageIndex: stage.index,
      line: stage.line,
    });
  }
  return [...byReference.values()];
}

/** The base the produced image runs on, if it has one (not scratch). */
export function runtimeBase(analysis: DockerfileAnalysis): DockerfileBase | undefined {
  return analysis.bases.find((b) => b.stage === 'runtime');
}

/** The bases whose update should rebuild the image: the runtime base or all of them; never a pinned one. */
export function triggeringBases(analysis: DockerfileAnalysis, type: BaseImageTriggerType): DockerfileBase[] {
  return analysis.bases.filter((b) => !b.pinned && (type === 'All' || b.stage === 'runtime'));
}
